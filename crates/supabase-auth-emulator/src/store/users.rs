//! Users and their identities.

use rusqlite::{Connection, OptionalExtension as _, Row, params};
use serde_json::{Map, Value};

use super::Ts;

/// A row of `users`. Strings are `""` when absent, as GoTrue serializes them.
#[derive(Clone)]
pub(crate) struct UserRecord {
    pub(crate) id: String,
    pub(crate) aud: String,
    pub(crate) role: String,
    pub(crate) email: String,
    pub(crate) phone: String,
    pub(crate) encrypted_password: Option<String>,
    pub(crate) email_confirmed_at: Ts,
    pub(crate) invited_at: Ts,
    pub(crate) phone_confirmed_at: Ts,
    pub(crate) confirmation_sent_at: Ts,
    /// Generated column in GoTrue: only reflects the row as last loaded.
    pub(crate) confirmed_at: Ts,
    pub(crate) recovery_sent_at: Ts,
    pub(crate) new_email: String,
    pub(crate) email_change_sent_at: Ts,
    pub(crate) email_change_confirm_status: i64,
    pub(crate) new_phone: String,
    pub(crate) phone_change_sent_at: Ts,
    pub(crate) reauthentication_sent_at: Ts,
    pub(crate) last_sign_in_at: Ts,
    pub(crate) app_metadata: Map<String, Value>,
    pub(crate) user_metadata: Map<String, Value>,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) banned_until: Ts,
    pub(crate) deleted_at: Ts,
    pub(crate) is_anonymous: bool,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl UserRecord {
    /// A fresh user with GoTrue's defaults (`aud`/`role` `authenticated`, empty metadata).
    pub(crate) fn new(now: i64) -> Self {
        Self {
            id: crate::util::new_uuid(),
            aud: "authenticated".into(),
            role: "authenticated".into(),
            email: String::new(),
            phone: String::new(),
            encrypted_password: None,
            email_confirmed_at: None,
            invited_at: None,
            phone_confirmed_at: None,
            confirmation_sent_at: None,
            confirmed_at: None,
            recovery_sent_at: None,
            new_email: String::new(),
            email_change_sent_at: None,
            email_change_confirm_status: 0,
            new_phone: String::new(),
            phone_change_sent_at: None,
            reauthentication_sent_at: None,
            last_sign_in_at: None,
            app_metadata: Map::new(),
            user_metadata: Map::new(),
            created_at: now,
            updated_at: now,
            banned_until: None,
            deleted_at: None,
            is_anonymous: false,
        }
    }

    /// Whether the user is banned at `now`.
    pub(crate) fn is_banned(&self, now: i64) -> bool {
        self.banned_until.is_some_and(|until| until > now)
    }

    /// Whether the email address is confirmed.
    pub(crate) fn email_confirmed(&self) -> bool {
        self.email_confirmed_at.is_some()
    }

    /// GoTrue's `User.Confirm`: sets `email_confirmed_at` and `user_metadata.email_verified`.
    pub(crate) fn confirm_email(&mut self, now: i64) {
        self.email_confirmed_at = Some(now);
        self.user_metadata
            .insert("email_verified".into(), Value::Bool(true));
    }
}

const COLUMNS: &str = "id, aud, role, email, phone, encrypted_password, email_confirmed_at, \
    invited_at, phone_confirmed_at, confirmation_sent_at, recovery_sent_at, new_email, \
    email_change_sent_at, email_change_confirm_status, new_phone, phone_change_sent_at, \
    reauthentication_sent_at, last_sign_in_at, raw_app_meta_data, raw_user_meta_data, \
    created_at, updated_at, banned_until, deleted_at, is_anonymous";

fn json_map(text: &str) -> Map<String, Value> {
    match serde_json::from_str(text) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<UserRecord> {
    let email_confirmed_at: Ts = r.get(6)?;
    let phone_confirmed_at: Ts = r.get(8)?;
    let confirmed_at = match (email_confirmed_at, phone_confirmed_at) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Ok(UserRecord {
        id: r.get(0)?,
        aud: r.get(1)?,
        role: r.get(2)?,
        email: r.get(3)?,
        phone: r.get(4)?,
        encrypted_password: r.get(5)?,
        email_confirmed_at,
        invited_at: r.get(7)?,
        phone_confirmed_at,
        confirmation_sent_at: r.get(9)?,
        confirmed_at,
        recovery_sent_at: r.get(10)?,
        new_email: r.get(11)?,
        email_change_sent_at: r.get(12)?,
        email_change_confirm_status: r.get(13)?,
        new_phone: r.get(14)?,
        phone_change_sent_at: r.get(15)?,
        reauthentication_sent_at: r.get(16)?,
        last_sign_in_at: r.get(17)?,
        app_metadata: json_map(&r.get::<_, String>(18)?),
        user_metadata: json_map(&r.get::<_, String>(19)?),
        created_at: r.get(20)?,
        updated_at: r.get(21)?,
        banned_until: r.get(22)?,
        deleted_at: r.get(23)?,
        is_anonymous: r.get(24)?,
    })
}

/// Loads a user by id.
pub(crate) fn get(c: &Connection, id: &str) -> rusqlite::Result<Option<UserRecord>> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM users WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()
}

/// Finds a (not soft-deleted) user by lower-cased email.
pub(crate) fn find_by_email(c: &Connection, email: &str) -> rusqlite::Result<Option<UserRecord>> {
    c.query_row(
        &format!(
            "SELECT {COLUMNS} FROM users WHERE email = ?1 AND email != '' AND deleted_at IS NULL"
        ),
        [email.to_lowercase()],
        from_row,
    )
    .optional()
}

/// Finds a (not soft-deleted) user by normalised phone.
pub(crate) fn find_by_phone(c: &Connection, phone: &str) -> rusqlite::Result<Option<UserRecord>> {
    c.query_row(
        &format!(
            "SELECT {COLUMNS} FROM users WHERE phone = ?1 AND phone != '' AND deleted_at IS NULL"
        ),
        [phone],
        from_row,
    )
    .optional()
}

/// Finds a (not soft-deleted) user with a pending change to `phone` (normalised).
pub(crate) fn find_by_new_phone(
    c: &Connection,
    phone: &str,
) -> rusqlite::Result<Option<UserRecord>> {
    c.query_row(
        &format!(
            "SELECT {COLUMNS} FROM users WHERE new_phone = ?1 AND new_phone != '' \
             AND deleted_at IS NULL"
        ),
        [phone],
        from_row,
    )
    .optional()
}

/// Lists users newest first, optionally filtered by a substring of email or name.
pub(crate) fn list(
    c: &Connection,
    filter: &str,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<UserRecord>, i64)> {
    let pattern = format!("%{}%", filter.replace(['%', '_'], ""));
    let cond = "(?1 = '%%' OR email LIKE ?1 OR raw_user_meta_data LIKE ?1)";
    let total: i64 = c.query_row(
        &format!("SELECT COUNT(*) FROM users WHERE {cond}"),
        [&pattern],
        |r| r.get(0),
    )?;
    let mut stmt = c.prepare(&format!(
        "SELECT {COLUMNS} FROM users WHERE {cond} ORDER BY created_at DESC, id LIMIT ?2 OFFSET ?3"
    ))?;
    let users = stmt
        .query_map(params![pattern, limit, offset], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((users, total))
}

fn to_params(u: &UserRecord) -> [Box<dyn rusqlite::ToSql + '_>; 25] {
    [
        Box::new(&u.id),
        Box::new(&u.aud),
        Box::new(&u.role),
        Box::new(&u.email),
        Box::new(&u.phone),
        Box::new(&u.encrypted_password),
        Box::new(u.email_confirmed_at),
        Box::new(u.invited_at),
        Box::new(u.phone_confirmed_at),
        Box::new(u.confirmation_sent_at),
        Box::new(u.recovery_sent_at),
        Box::new(&u.new_email),
        Box::new(u.email_change_sent_at),
        Box::new(u.email_change_confirm_status),
        Box::new(&u.new_phone),
        Box::new(u.phone_change_sent_at),
        Box::new(u.reauthentication_sent_at),
        Box::new(u.last_sign_in_at),
        Box::new(Value::Object(u.app_metadata.clone()).to_string()),
        Box::new(Value::Object(u.user_metadata.clone()).to_string()),
        Box::new(u.created_at),
        Box::new(u.updated_at),
        Box::new(u.banned_until),
        Box::new(u.deleted_at),
        Box::new(u.is_anonymous),
    ]
}

/// Inserts a new user row.
pub(crate) fn insert(c: &Connection, u: &UserRecord) -> rusqlite::Result<()> {
    let placeholders = (1..=25)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let p = to_params(u);
    c.execute(
        &format!("INSERT INTO users ({COLUMNS}) VALUES ({placeholders})"),
        rusqlite::params_from_iter(p.iter().map(|b| b.as_ref())),
    )?;
    Ok(())
}

/// Writes every column of `u`, bumping `updated_at` to `now` (as pop's `Update` does).
pub(crate) fn save(c: &Connection, u: &mut UserRecord, now: i64) -> rusqlite::Result<()> {
    u.updated_at = now;
    let sets = COLUMNS
        .split(", ")
        .enumerate()
        .skip(1)
        .map(|(i, col)| format!("{} = ?{}", col.trim(), i + 1))
        .collect::<Vec<_>>()
        .join(", ");
    let p = to_params(u);
    c.execute(
        &format!("UPDATE users SET {sets} WHERE id = ?1"),
        rusqlite::params_from_iter(p.iter().map(|b| b.as_ref())),
    )?;
    Ok(())
}

/// Deletes a user; sessions, refresh tokens, identities and one-time tokens cascade.
pub(crate) fn delete(c: &Connection, id: &str) -> rusqlite::Result<()> {
    c.execute("DELETE FROM users WHERE id = ?1", [id])?;
    Ok(())
}

/// A row of `identities`.
#[derive(Debug, Clone)]
pub(crate) struct IdentityRecord {
    pub(crate) id: String,
    pub(crate) provider_id: String,
    pub(crate) user_id: String,
    pub(crate) identity_data: Map<String, Value>,
    pub(crate) provider: String,
    pub(crate) last_sign_in_at: Ts,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
}

impl IdentityRecord {
    /// A new identity of `user_id` at `provider`.
    pub(crate) fn new(
        user_id: &str,
        provider: &str,
        provider_id: &str,
        data: Map<String, Value>,
        now: i64,
    ) -> Self {
        Self {
            id: crate::util::new_uuid(),
            provider_id: provider_id.into(),
            user_id: user_id.into(),
            identity_data: data,
            provider: provider.into(),
            last_sign_in_at: Some(now),
            created_at: now,
            updated_at: now,
        }
    }
}

/// Inserts or replaces an identity.
pub(crate) fn upsert_identity(c: &Connection, i: &IdentityRecord) -> rusqlite::Result<()> {
    c.execute(
        "INSERT OR REPLACE INTO identities (id, provider_id, user_id, identity_data, provider, \
         last_sign_in_at, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            i.id,
            i.provider_id,
            i.user_id,
            Value::Object(i.identity_data.clone()).to_string(),
            i.provider,
            i.last_sign_in_at,
            i.created_at,
            i.updated_at
        ],
    )?;
    Ok(())
}

const IDENTITY_COLUMNS: &str = "id, provider_id, user_id, identity_data, provider, \
    last_sign_in_at, created_at, updated_at";

fn identity_from_row(r: &Row<'_>) -> rusqlite::Result<IdentityRecord> {
    Ok(IdentityRecord {
        id: r.get(0)?,
        provider_id: r.get(1)?,
        user_id: r.get(2)?,
        identity_data: json_map(&r.get::<_, String>(3)?),
        provider: r.get(4)?,
        last_sign_in_at: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
    })
}

/// The identities of a user, oldest first.
pub(crate) fn identities(c: &Connection, user_id: &str) -> rusqlite::Result<Vec<IdentityRecord>> {
    let mut stmt = c.prepare(&format!(
        "SELECT {IDENTITY_COLUMNS} FROM identities WHERE user_id = ?1 ORDER BY created_at, rowid"
    ))?;
    stmt.query_map([user_id], identity_from_row)?.collect()
}

/// Finds the identity for `(provider, provider_id)`.
pub(crate) fn find_identity(
    c: &Connection,
    provider: &str,
    provider_id: &str,
) -> rusqlite::Result<Option<IdentityRecord>> {
    c.query_row(
        &format!(
            "SELECT {IDENTITY_COLUMNS} FROM identities WHERE provider = ?1 AND provider_id = ?2"
        ),
        [provider, provider_id],
        identity_from_row,
    )
    .optional()
}

/// Deletes all identities of a user.
pub(crate) fn delete_identities(c: &Connection, user_id: &str) -> rusqlite::Result<()> {
    c.execute("DELETE FROM identities WHERE user_id = ?1", [user_id])?;
    Ok(())
}

/// Recomputes `app_metadata.provider(s)` from the identities ordered by creation
/// (GoTrue does this after verification and identity changes).
pub(crate) fn refresh_providers(c: &Connection, u: &mut UserRecord) -> rusqlite::Result<()> {
    let ids = identities(c, &u.id)?;
    let mut providers: Vec<String> = Vec::new();
    for i in &ids {
        if !providers.contains(&i.provider) {
            providers.push(i.provider.clone());
        }
    }
    if let Some(first) = providers.first() {
        u.app_metadata
            .insert("provider".into(), Value::String(first.clone()));
        u.app_metadata.insert(
            "providers".into(),
            Value::Array(providers.into_iter().map(Value::String).collect()),
        );
    }
    Ok(())
}

/// Deletes one identity (unlinking).
pub(crate) fn delete_identity(c: &Connection, id: &str) -> rusqlite::Result<()> {
    c.execute("DELETE FROM identities WHERE id = ?1", [id])?;
    Ok(())
}
