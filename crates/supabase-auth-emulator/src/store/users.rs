//! Users and their identities.

use crate::store::db::Param;
use crate::store::{Db, DbResult, OptionalExt as _, db, params};
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

    /// `app_metadata.provider` and `providers` of a user with one identity, at `provider`.
    pub(crate) fn set_sole_provider(&mut self, provider: &str) {
        self.app_metadata
            .insert("provider".into(), Value::String(provider.into()));
        self.app_metadata.insert(
            "providers".into(),
            Value::Array(vec![Value::String(provider.into())]),
        );
    }

    /// GoTrue's `User.Confirm`: sets `email_confirmed_at` and `user_metadata.email_verified`.
    pub(crate) fn confirm_email(&mut self, now: i64) {
        self.email_confirmed_at = Some(now);
        self.user_metadata
            .insert("email_verified".into(), Value::Bool(true));
    }
}

const COLUMNS: &str = "id, aud, role, email, phone, encrypted_password, email_confirmed_at, \
    invited_at, phone_confirmed_at, confirmation_sent_at, recovery_sent_at, email_change, \
    email_change_sent_at, email_change_confirm_status, phone_change, phone_change_sent_at, \
    reauthentication_sent_at, last_sign_in_at, raw_app_meta_data, raw_user_meta_data, \
    created_at, updated_at, banned_until, deleted_at, is_anonymous";

fn json_map(text: &str) -> Map<String, Value> {
    match serde_json::from_str(text) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

fn from_row(r: &db::Row<'_>) -> DbResult<UserRecord> {
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
        app_metadata: json_map(&r.get::<String>(18)?),
        user_metadata: json_map(&r.get::<String>(19)?),
        created_at: r.get(20)?,
        updated_at: r.get(21)?,
        banned_until: r.get(22)?,
        deleted_at: r.get(23)?,
        is_anonymous: r.get(24)?,
    })
}

/// Loads a user by id.
pub(crate) fn get(c: &Db<'_>, id: &str) -> DbResult<Option<UserRecord>> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM users WHERE id = ?1"),
        params![id],
        from_row,
    )
    .optional()
}

/// Finds a (not soft-deleted) user by lower-cased email.
pub(crate) fn find_by_email(c: &Db<'_>, email: &str) -> DbResult<Option<UserRecord>> {
    c.query_row(
        &format!(
            "SELECT {COLUMNS} FROM users WHERE email = ?1 AND email != '' AND deleted_at IS NULL"
        ),
        params![email.to_lowercase()],
        from_row,
    )
    .optional()
}

/// Finds a (not soft-deleted) user by normalised phone.
pub(crate) fn find_by_phone(c: &Db<'_>, phone: &str) -> DbResult<Option<UserRecord>> {
    c.query_row(
        &format!(
            "SELECT {COLUMNS} FROM users WHERE phone = ?1 AND phone != '' AND deleted_at IS NULL"
        ),
        params![phone],
        from_row,
    )
    .optional()
}

/// Finds a (not soft-deleted) user with a pending change to `phone` (normalised).
pub(crate) fn find_by_new_phone(c: &Db<'_>, phone: &str) -> DbResult<Option<UserRecord>> {
    c.query_row(
        &format!(
            "SELECT {COLUMNS} FROM users WHERE phone_change = ?1 AND phone_change != '' \
             AND deleted_at IS NULL"
        ),
        params![phone],
        from_row,
    )
    .optional()
}

/// Lists users newest first, optionally filtered by a substring of email or name.
pub(crate) fn list(
    c: &Db<'_>,
    filter: &str,
    limit: i64,
    offset: i64,
) -> DbResult<(Vec<UserRecord>, i64)> {
    let pattern = format!("%{}%", filter.replace(['%', '_'], ""));
    // jsonb has no LIKE: compare its text, which both databases spell with CAST.
    let cond = "(?1 = '%%' OR email LIKE ?1 OR CAST(raw_user_meta_data AS TEXT) LIKE ?1)";
    let total: i64 = c.query_row(
        &format!("SELECT COUNT(*) FROM users WHERE {cond}"),
        params![&pattern],
        |r| r.get(0),
    )?;
    let users = c.query_map(
        &format!(
            "SELECT {COLUMNS} FROM users WHERE {cond} \
             ORDER BY created_at DESC, id LIMIT ?2 OFFSET ?3"
        ),
        params![pattern, limit, offset],
        from_row,
    )?;
    Ok((users, total))
}

/// The row's values in [`COLUMNS`] order; the metadata as JSON text.
fn to_params<'a>(u: &'a UserRecord, meta: &'a [String; 2]) -> [&'a dyn Param; 25] {
    [
        &u.id,
        &u.aud,
        &u.role,
        &u.email,
        &u.phone,
        &u.encrypted_password,
        &u.email_confirmed_at,
        &u.invited_at,
        &u.phone_confirmed_at,
        &u.confirmation_sent_at,
        &u.recovery_sent_at,
        &u.new_email,
        &u.email_change_sent_at,
        &u.email_change_confirm_status,
        &u.new_phone,
        &u.phone_change_sent_at,
        &u.reauthentication_sent_at,
        &u.last_sign_in_at,
        &meta[0],
        &meta[1],
        &u.created_at,
        &u.updated_at,
        &u.banned_until,
        &u.deleted_at,
        &u.is_anonymous,
    ]
}

fn metadata_json(u: &UserRecord) -> [String; 2] {
    [
        Value::Object(u.app_metadata.clone()).to_string(),
        Value::Object(u.user_metadata.clone()).to_string(),
    ]
}

/// Inserts a new user row.
pub(crate) fn insert(c: &Db<'_>, u: &UserRecord) -> DbResult<()> {
    let placeholders = (1..=25)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let meta = metadata_json(u);
    let p = to_params(u, &meta);
    c.execute(
        &format!("INSERT INTO users ({COLUMNS}) VALUES ({placeholders})"),
        &p,
    )?;
    Ok(())
}

/// Writes every column of `u`, bumping `updated_at` to `now` (as pop's `Update` does).
pub(crate) fn save(c: &Db<'_>, u: &mut UserRecord, now: i64) -> DbResult<()> {
    u.updated_at = now;
    let sets = COLUMNS
        .split(", ")
        .enumerate()
        .skip(1)
        .map(|(i, col)| format!("{} = ?{}", col.trim(), i + 1))
        .collect::<Vec<_>>()
        .join(", ");
    let meta = metadata_json(u);
    let p = to_params(u, &meta);
    c.execute(&format!("UPDATE users SET {sets} WHERE id = ?1"), &p)?;
    Ok(())
}

/// Deletes a user; sessions, refresh tokens, identities and one-time tokens cascade.
pub(crate) fn delete(c: &Db<'_>, id: &str) -> DbResult<()> {
    c.execute("DELETE FROM users WHERE id = ?1", params![id])?;
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
pub(crate) fn upsert_identity(c: &Db<'_>, i: &IdentityRecord) -> DbResult<()> {
    c.execute(
        &format!(
            "INSERT INTO identities ({IDENTITY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
             ON CONFLICT (id) DO UPDATE SET {}",
            super::db::excluded(IDENTITY_COLUMNS)
        ),
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

fn identity_from_row(r: &db::Row<'_>) -> DbResult<IdentityRecord> {
    Ok(IdentityRecord {
        id: r.get(0)?,
        provider_id: r.get(1)?,
        user_id: r.get(2)?,
        identity_data: json_map(&r.get::<String>(3)?),
        provider: r.get(4)?,
        last_sign_in_at: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
    })
}

/// The identities of a user, oldest first.
pub(crate) fn identities(c: &Db<'_>, user_id: &str) -> DbResult<Vec<IdentityRecord>> {
    c.query_map(
        &format!(
            "SELECT {IDENTITY_COLUMNS} FROM identities WHERE user_id = ?1 \
             ORDER BY created_at, rowid"
        ),
        params![user_id],
        identity_from_row,
    )
}

/// Finds the identity for `(provider, provider_id)`.
pub(crate) fn find_identity(
    c: &Db<'_>,
    provider: &str,
    provider_id: &str,
) -> DbResult<Option<IdentityRecord>> {
    c.query_row(
        &format!(
            "SELECT {IDENTITY_COLUMNS} FROM identities WHERE provider = ?1 AND provider_id = ?2"
        ),
        params![provider, provider_id],
        identity_from_row,
    )
    .optional()
}

/// Deletes all identities of a user.
pub(crate) fn delete_identities(c: &Db<'_>, user_id: &str) -> DbResult<()> {
    c.execute(
        "DELETE FROM identities WHERE user_id = ?1",
        params![user_id],
    )?;
    Ok(())
}

/// Recomputes `app_metadata.provider(s)` from the identities ordered by creation
/// (GoTrue does this after verification and identity changes).
pub(crate) fn refresh_providers(c: &Db<'_>, u: &mut UserRecord) -> DbResult<()> {
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
pub(crate) fn delete_identity(c: &Db<'_>, id: &str) -> DbResult<()> {
    c.execute("DELETE FROM identities WHERE id = ?1", params![id])?;
    Ok(())
}
