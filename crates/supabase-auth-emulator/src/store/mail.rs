//! The inbox: every email and SMS the emulator "sends".

use crate::store::{Db, DbResult, db, params};

use crate::Email;

/// Stores an email.
pub(crate) fn insert(c: &Db<'_>, e: &Email, sent_at_micros: i64) -> DbResult<()> {
    c.execute(
        "INSERT INTO emails (id, to_addr, subject, kind, otp, token_hash, link, redirect_to, html, sent_at, \
         channel, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            e.id, e.to, e.subject, e.kind, e.otp, e.token_hash, e.link, e.redirect_to, e.html,
            sent_at_micros, e.channel, e.body
        ],
    )?;
    Ok(())
}

fn from_row(r: &db::Row<'_>) -> DbResult<Email> {
    Ok(Email {
        id: r.get(0)?,
        to: r.get(1)?,
        subject: r.get(2)?,
        kind: r.get(3)?,
        otp: r.get(4)?,
        token_hash: r.get(5)?,
        link: r.get(6)?,
        redirect_to: r.get(7)?,
        html: r.get(8)?,
        sent_at: crate::util::format_time(r.get(9)?),
        channel: r.get(10)?,
        body: r.get(11)?,
    })
}

const COLUMNS: &str =
    "id, to_addr, subject, kind, otp, token_hash, link, redirect_to, html, sent_at, channel, body";

/// All emails in sending order, optionally only those to `to` (case-insensitive).
pub(crate) fn list(c: &Db<'_>, to: Option<&str>) -> DbResult<Vec<Email>> {
    c.query_map(&format!(
        "SELECT {COLUMNS} FROM emails WHERE (CAST(?1 AS TEXT) IS NULL OR to_addr = lower(CAST(?1 AS TEXT))) ORDER BY seq"
    ),
        params![to],
        from_row,
    )
}

/// Deletes emails (all, or those to `to`).
pub(crate) fn clear(c: &Db<'_>, to: Option<&str>) -> DbResult<()> {
    c.execute(
        "DELETE FROM emails WHERE (CAST(?1 AS TEXT) IS NULL OR to_addr = lower(CAST(?1 AS TEXT)))",
        params![to],
    )?;
    Ok(())
}
