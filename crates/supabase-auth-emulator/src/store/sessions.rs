//! Sessions and legacy (12-character) refresh tokens.

use crate::store::{Db, DbError, DbResult, OptionalExt as _, db, params};
use serde_json::{Value, json};

use super::Ts;

/// A row of `sessions`.
#[derive(Debug, Clone)]
pub(crate) struct SessionRecord {
    pub(crate) id: String,
    pub(crate) user_id: String,
    pub(crate) created_at: i64,
    pub(crate) aal: String,
    pub(crate) not_after: Ts,
    /// `[{"method": .., "timestamp": ..}]`, newest first.
    pub(crate) amr: Value,
    /// The MFA factor last verified in this session (GoTrue's `sessions.factor_id`).
    pub(crate) factor_id: Option<String>,
}

impl SessionRecord {
    /// `Session.IsAAL2`: the stored level, which MFA verification and unenrolment set.
    pub(crate) fn is_aal2(&self) -> bool {
        self.aal == "aal2"
    }
}

const SESSION_COLUMNS: &str = "id, user_id, created_at, aal, not_after, amr, factor_id";

fn session_from_row(r: &db::Row<'_>) -> DbResult<SessionRecord> {
    let amr: String = r.get(5)?;
    Ok(SessionRecord {
        id: r.get(0)?,
        user_id: r.get(1)?,
        created_at: r.get(2)?,
        aal: r.get(3)?,
        not_after: r.get(4)?,
        amr: serde_json::from_str(&amr).unwrap_or_else(|_| json!([])),
        factor_id: r.get(6)?,
    })
}

/// Creates a session whose `amr` holds one entry for `method` at `now`.
pub(crate) fn create(
    c: &Db<'_>,
    user_id: &str,
    method: &str,
    now_micros: i64,
    user_agent: Option<&str>,
) -> DbResult<SessionRecord> {
    let s = SessionRecord {
        id: crate::util::new_uuid(),
        user_id: user_id.into(),
        created_at: now_micros,
        aal: "aal1".into(),
        not_after: None,
        amr: json!([{ "method": method, "timestamp": now_micros.div_euclid(1_000_000) }]),
        factor_id: None,
    };
    c.execute(
        "INSERT INTO sessions (id, user_id, created_at, updated_at, aal, not_after, user_agent, amr) \
         VALUES (?1, ?2, ?3, ?3, ?4, NULL, ?5, ?6)",
        params![s.id, s.user_id, s.created_at, s.aal, user_agent, s.amr.to_string()],
    )?;
    Ok(s)
}

/// Loads a session.
pub(crate) fn get(c: &Db<'_>, id: &str) -> DbResult<Option<SessionRecord>> {
    c.query_row(
        &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1"),
        params![id],
        session_from_row,
    )
    .optional()
}

/// Adds an `amr` entry for `method` at `now_secs`, or moves an existing one's timestamp
/// (`AddClaimToSession` upserts per session and method), then orders the list newest
/// first as `CalculateAALAndAMR` does; entries of one second keep their order.
pub(crate) fn add_amr_claim(
    c: &Db<'_>,
    session_id: &str,
    method: &str,
    now_secs: i64,
) -> DbResult<()> {
    let Some(session) = get(c, session_id)? else {
        return Err(DbError::NoRow);
    };
    let mut entries = match session.amr {
        Value::Array(entries) => entries,
        _ => Vec::new(),
    };
    match entries
        .iter_mut()
        .find(|e| e.get("method").and_then(Value::as_str) == Some(method))
    {
        Some(entry) => entry["timestamp"] = json!(now_secs),
        None => entries.push(json!({ "method": method, "timestamp": now_secs })),
    }
    // A stable sort, as Go's insertion sort is for lists this short.
    entries.sort_by_key(|e| std::cmp::Reverse(e.get("timestamp").and_then(Value::as_i64)));
    c.execute(
        "UPDATE sessions SET amr = ?2 WHERE id = ?1",
        params![session_id, Value::Array(entries).to_string()],
    )?;
    Ok(())
}

/// Records the session's level and the factor that raised it
/// (`Session.UpdateAALAndAssociatedFactor`).
pub(crate) fn set_aal(c: &Db<'_>, id: &str, aal: &str, factor_id: Option<&str>) -> DbResult<()> {
    c.execute(
        "UPDATE sessions SET aal = ?2, factor_id = ?3 WHERE id = ?1",
        params![id, aal, factor_id],
    )?;
    Ok(())
}

/// Deletes the user's sessions below `level` (`InvalidateSessionsWithAALLessThan`:
/// a string comparison, so `aal1` < `aal2`).
pub(crate) fn delete_below_aal(c: &Db<'_>, user_id: &str, level: &str) -> DbResult<()> {
    c.execute(
        "DELETE FROM sessions WHERE user_id = ?1 AND aal < ?2",
        params![user_id, level],
    )?;
    Ok(())
}

/// After a factor is removed: its sessions lose the factor's `amr` entry and go back
/// to aal1 (`Factor.DowngradeSessionsToAAL1`).
pub(crate) fn downgrade_for_factor(
    c: &Db<'_>,
    user_id: &str,
    factor_id: &str,
    amr_method: &str,
) -> DbResult<()> {
    let affected = c.query_map(
        &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE factor_id = ?1"),
        params![factor_id],
        session_from_row,
    )?;
    for s in affected {
        let kept: Vec<Value> = match s.amr {
            Value::Array(entries) => entries
                .into_iter()
                .filter(|e| e.get("method").and_then(Value::as_str) != Some(amr_method))
                .collect(),
            _ => Vec::new(),
        };
        c.execute(
            "UPDATE sessions SET amr = ?2 WHERE id = ?1",
            params![s.id, Value::Array(kept).to_string()],
        )?;
    }
    c.execute(
        "UPDATE sessions SET aal = 'aal1', factor_id = NULL WHERE user_id = ?1 AND factor_id = ?2",
        params![user_id, factor_id],
    )?;
    Ok(())
}

/// Records a refresh on the session.
pub(crate) fn touch_refreshed(c: &Db<'_>, id: &str, now: i64) -> DbResult<()> {
    c.execute(
        // Two parameters: GoTrue's `refreshed_at` is a `timestamp`, `updated_at` a
        // `timestamptz`, and PostgreSQL gives one parameter one type.
        "UPDATE sessions SET refreshed_at = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, now, now],
    )?;
    Ok(())
}

/// Deletes one session (its refresh tokens cascade).
pub(crate) fn delete(c: &Db<'_>, id: &str) -> DbResult<()> {
    c.execute("DELETE FROM sessions WHERE id = ?1", params![id])?;
    Ok(())
}

/// Deletes every session of a user, except `keep` if given.
pub(crate) fn delete_for_user(c: &Db<'_>, user_id: &str, keep: Option<&str>) -> DbResult<()> {
    match keep {
        Some(keep) => c.execute(
            "DELETE FROM sessions WHERE user_id = ?1 AND id != ?2",
            params![user_id, keep],
        )?,
        None => c.execute("DELETE FROM sessions WHERE user_id = ?1", params![user_id])?,
    };
    Ok(())
}

/// A row of `refresh_tokens`.
#[derive(Clone)]
pub(crate) struct RefreshTokenRecord {
    pub(crate) id: i64,
    pub(crate) token: String,
    pub(crate) user_id: String,
    pub(crate) parent: Option<String>,
    pub(crate) session_id: String,
    pub(crate) revoked: bool,
    pub(crate) updated_at: i64,
}

impl std::fmt::Debug for RefreshTokenRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshTokenRecord")
            .field("id", &self.id)
            .field("session_id", &self.session_id)
            .field("revoked", &self.revoked)
            .finish_non_exhaustive()
    }
}

const RT_COLUMNS: &str = "id, token, user_id, parent, session_id, revoked, updated_at";

fn rt_from_row(r: &db::Row<'_>) -> DbResult<RefreshTokenRecord> {
    Ok(RefreshTokenRecord {
        id: r.get(0)?,
        token: r.get(1)?,
        user_id: r.get(2)?,
        parent: r.get(3)?,
        session_id: r.get(4)?,
        revoked: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

/// Issues a new refresh token in `session_id`, child of `parent`.
pub(crate) fn insert_refresh_token(
    c: &Db<'_>,
    user_id: &str,
    session_id: &str,
    parent: Option<&str>,
    now: i64,
) -> DbResult<String> {
    // 60 random bits: a collision is astronomically unlikely, but retry on one anyway.
    for _ in 0..8 {
        let token = crate::util::refresh_token_string();
        let inserted = c.execute(
            "INSERT INTO refresh_tokens (token, user_id, parent, session_id, revoked, \
             created_at, updated_at) VALUES (?1, ?2, ?3, ?4, FALSE, ?5, ?5) \
             ON CONFLICT (token) DO NOTHING",
            params![token, user_id, parent, session_id, now],
        )?;
        if inserted == 1 {
            return Ok(token);
        }
    }
    Err(DbError::Exhausted(
        "no unused refresh token after 8 attempts",
    ))
}

/// Finds a refresh token by its string.
pub(crate) fn find_refresh_token(c: &Db<'_>, token: &str) -> DbResult<Option<RefreshTokenRecord>> {
    c.query_row(
        &format!("SELECT {RT_COLUMNS} FROM refresh_tokens WHERE token = ?1"),
        params![token],
        rt_from_row,
    )
    .optional()
}

/// The session's currently active token: the newest non-revoked one.
pub(crate) fn active_refresh_token(
    c: &Db<'_>,
    session_id: &str,
) -> DbResult<Option<RefreshTokenRecord>> {
    non_revoked_refresh_token(c, session_id, "DESC")
}

/// The session's oldest non-revoked token (`FindTokenBySessionID`, which MFA
/// verification swaps for a new one).
pub(crate) fn oldest_active_refresh_token(
    c: &Db<'_>,
    session_id: &str,
) -> DbResult<Option<RefreshTokenRecord>> {
    non_revoked_refresh_token(c, session_id, "ASC")
}

/// The first non-revoked token of the session in `order` (`ASC` or `DESC`) of ids.
fn non_revoked_refresh_token(
    c: &Db<'_>,
    session_id: &str,
    order: &'static str,
) -> DbResult<Option<RefreshTokenRecord>> {
    c.query_row(
        &format!(
            "SELECT {RT_COLUMNS} FROM refresh_tokens WHERE session_id = ?1 AND revoked = FALSE \
             ORDER BY id {order} LIMIT 1"
        ),
        params![session_id],
        rt_from_row,
    )
    .optional()
}

/// Marks one token revoked (touching `updated_at`, as pop's update does).
pub(crate) fn revoke(c: &Db<'_>, id: i64, now: i64) -> DbResult<()> {
    c.execute(
        "UPDATE refresh_tokens SET revoked = TRUE, updated_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

/// Revokes every non-revoked token of a session (reuse detected).
pub(crate) fn revoke_family(c: &Db<'_>, session_id: &str, now: i64) -> DbResult<()> {
    c.execute(
        "UPDATE refresh_tokens SET revoked = TRUE, updated_at = ?2 \
         WHERE session_id = ?1 AND revoked = FALSE",
        params![session_id, now],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;
    use crate::store::Store;
    use crate::store::users::{self, UserRecord};

    fn methods(c: &Db<'_>, id: &str) -> Value {
        get(c, id).unwrap().unwrap().amr
    }

    #[test]
    fn amr_claims_upsert_and_stay_newest_first() {
        let store = Store::open(None).unwrap();
        store
            .tx(|c| {
                let user = UserRecord::new(1_000_000);
                users::insert(c, &user)?;
                let s = create(c, &user.id, "password", 10_000_000, None)?;
                // Same second: the older entry stays first, as Go's stable sort leaves it.
                add_amr_claim(c, &s.id, "totp", 10)?;
                assert_eq!(
                    methods(c, &s.id),
                    json!([
                        { "method": "password", "timestamp": 10 },
                        { "method": "totp", "timestamp": 10 },
                    ])
                );
                // A later verification moves the existing entry instead of adding one.
                add_amr_claim(c, &s.id, "totp", 40)?;
                assert_eq!(
                    methods(c, &s.id),
                    json!([
                        { "method": "totp", "timestamp": 40 },
                        { "method": "password", "timestamp": 10 },
                    ])
                );
                set_aal(c, &s.id, "aal2", Some("f1"))?;
                downgrade_for_factor(c, &user.id, "f1", "totp")?;
                let after = get(c, &s.id)?.unwrap();
                assert_eq!(
                    (after.aal.as_str(), after.factor_id, after.amr),
                    (
                        "aal1",
                        None,
                        json!([{ "method": "password", "timestamp": 10 }])
                    )
                );
                Ok::<_, DbError>(())
            })
            .unwrap();
    }
}
