//! Persistence in SQLite (the default) or PostgreSQL: one connection behind a mutex, one
//! transaction per unit of work.
//!
//! Everything an HTTP request changes happens inside a single [`Store::tx`] call,
//! so refresh-token rotation and the reuse checks are atomic without row locks. The
//! queries are written once for both databases ([`db`]).

pub(crate) mod db;
pub(crate) mod factors;
pub(crate) mod keys;
pub(crate) mod links;
pub(crate) mod mail;
mod postgres_store;
pub(crate) mod sessions;
pub(crate) mod tokens;
pub(crate) mod user_json;
pub(crate) mod users;

use std::path::Path;
use std::sync::Mutex;

use rusqlite::Connection;

pub(crate) use db::{Db, DbError, DbResult, OptionalExt, params};

use crate::error::{EmulatorError, ErrorKind};

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    aud TEXT NOT NULL,
    role TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    encrypted_password TEXT,
    email_confirmed_at INTEGER,
    invited_at INTEGER,
    phone_confirmed_at INTEGER,
    confirmation_sent_at INTEGER,
    recovery_sent_at INTEGER,
    email_change TEXT NOT NULL DEFAULT '',
    email_change_sent_at INTEGER,
    email_change_confirm_status INTEGER NOT NULL DEFAULT 0,
    phone_change TEXT NOT NULL DEFAULT '',
    phone_change_sent_at INTEGER,
    reauthentication_sent_at INTEGER,
    last_sign_in_at INTEGER,
    raw_app_meta_data TEXT NOT NULL DEFAULT '{}',
    raw_user_meta_data TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    banned_until INTEGER,
    deleted_at INTEGER,
    is_anonymous INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS users_email_idx ON users(email);
CREATE TABLE IF NOT EXISTS identities (
    id TEXT PRIMARY KEY,
    provider_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    identity_data TEXT NOT NULL,
    provider TEXT NOT NULL,
    last_sign_in_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE(provider_id, provider)
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    aal TEXT NOT NULL DEFAULT 'aal1',
    not_after INTEGER,
    refreshed_at INTEGER,
    user_agent TEXT,
    amr TEXT NOT NULL DEFAULT '[]',
    factor_id TEXT
);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    parent TEXT,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    revoked INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS refresh_tokens_session_idx ON refresh_tokens(session_id);
CREATE TABLE IF NOT EXISTS mfa_factors (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    friendly_name TEXT NOT NULL DEFAULT '',
    factor_type TEXT NOT NULL,
    status TEXT NOT NULL,
    secret TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    last_challenged_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS mfa_factors_user_idx ON mfa_factors(user_id);
CREATE TABLE IF NOT EXISTS mfa_challenges (
    id TEXT PRIMARY KEY,
    factor_id TEXT NOT NULL REFERENCES mfa_factors(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    verified_at INTEGER,
    ip_address TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS mfa_challenges_factor_idx ON mfa_challenges(factor_id);
CREATE TABLE IF NOT EXISTS one_time_tokens (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_type TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    relates_to TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, token_type)
);
CREATE INDEX IF NOT EXISTS one_time_tokens_hash_idx ON one_time_tokens(token_hash);
CREATE TABLE IF NOT EXISTS flow_state (
    id TEXT PRIMARY KEY,
    user_id TEXT,
    auth_code TEXT NOT NULL,
    code_challenge_method TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    provider_type TEXT NOT NULL,
    provider_access_token TEXT NOT NULL DEFAULT '',
    provider_refresh_token TEXT NOT NULL DEFAULT '',
    authentication_method TEXT NOT NULL,
    auth_code_issued_at INTEGER,
    redirect_to TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS flow_state_links (
    flow_state_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS oauth_codes (
    code TEXT PRIMARY KEY,
    flow_state_id TEXT NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    private_der BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS emails (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    to_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    kind TEXT NOT NULL,
    otp TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    link TEXT NOT NULL,
    redirect_to TEXT NOT NULL,
    html TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    channel TEXT NOT NULL DEFAULT 'email',
    body TEXT NOT NULL DEFAULT ''
);
"#;

/// The emulator's database: a SQLite file (or memory), or a PostgreSQL database.
pub(crate) enum Store {
    /// One connection behind a mutex.
    Sqlite(Mutex<Connection>),
    /// One connection behind a mutex, as with SQLite: units of work never interleave.
    /// Boxed: its connection settings are large, and there is one store per emulator.
    Postgres(Box<postgres_store::PgStore>),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Sqlite(_) => "Store(SQLite)",
            Self::Postgres(_) => "Store(PostgreSQL)",
        })
    }
}

impl Store {
    /// Opens (and migrates) a file database, or a private in-memory one.
    pub(crate) fn open(path: Option<&Path>) -> Result<Self, EmulatorError> {
        let conn = match path {
            Some(p) => Connection::open(p).map_err(|e| {
                EmulatorError::with_source(
                    ErrorKind::Database,
                    format!("cannot open database {}", p.display()),
                    e,
                )
            })?,
            None => Connection::open_in_memory()?,
        };
        conn.execute_batch("PRAGMA foreign_keys = ON;")?;
        if path.is_some() {
            // WAL keeps writes cheap for a file that other tools may read.
            conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")?;
        }
        conn.execute_batch(SCHEMA)?;
        migrate(&conn)?;
        Ok(Self::Sqlite(Mutex::new(conn)))
    }

    /// Connects to PostgreSQL and creates the `auth` schema's tables where missing.
    pub(crate) fn open_postgres(url: &str) -> Result<Self, EmulatorError> {
        postgres_store::PgStore::open(url).map(|pg| Self::Postgres(Box::new(pg)))
    }

    /// Runs `f`, which may take several transactions, while no other emulator on the same
    /// PostgreSQL database runs its own: start-up's load-or-create of the signing keys,
    /// so emulators starting together on a fresh database share one key. The lock is the
    /// connection's, which every transaction here uses. SQLite: just runs `f`.
    pub(crate) fn exclusively<T, E>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<T, E>
    where
        E: From<DbError> + Send,
    {
        /// The advisory lock's key, chosen once: "SbEmuKey".
        const START_LOCK: i64 = 0x5362_456d_754b_6579;
        if let Self::Sqlite(_) = self {
            return f();
        }
        let lock = |sql: &'static str| self.tx(|c| c.execute(sql, params![START_LOCK]).map(|_| ()));
        lock("SELECT pg_advisory_lock(?1)")?;
        let out = f();
        // Also released if the connection was replaced meanwhile (the server ends a
        // session's locks with it); unlocking then only returns false.
        lock("SELECT pg_advisory_unlock(?1)")?;
        out
    }

    /// Runs `f` in a transaction: committed when `f` returns `Ok`, rolled back on `Err`.
    pub(crate) fn tx<T, E>(&self, f: impl FnOnce(&Db<'_>) -> Result<T, E> + Send) -> Result<T, E>
    where
        T: Send,
        E: From<DbError> + Send,
    {
        match self {
            Self::Sqlite(conn) => {
                // A panic while holding the lock leaves SQLite consistent (the transaction
                // rolls back on drop), so a poisoned mutex is safe to keep using.
                let mut conn = conn
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let tx = conn.transaction().map_err(DbError::from)?;
                let out = f(&Db::sqlite(&tx))?;
                tx.commit().map_err(DbError::from)?;
                Ok(out)
            }
            Self::Postgres(pg) => pg.tx(f),
        }
    }
}

/// Brings a database file written by an older emulator up to [`SCHEMA`]
/// (`CREATE TABLE IF NOT EXISTS` adds new tables, not new columns).
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let has_factor_id = conn
        .prepare("SELECT 1 FROM pragma_table_info('sessions') WHERE name = 'factor_id'")?
        .exists([])?;
    if !has_factor_id {
        conn.execute_batch("ALTER TABLE sessions ADD COLUMN factor_id TEXT;")?;
    }
    // SMS messages share the inbox with emails.
    let has_channel = conn
        .prepare("SELECT 1 FROM pragma_table_info('emails') WHERE name = 'channel'")?
        .exists([])?;
    if !has_channel {
        conn.execute_batch(
            "ALTER TABLE emails ADD COLUMN channel TEXT NOT NULL DEFAULT 'email'; \
             ALTER TABLE emails ADD COLUMN body TEXT NOT NULL DEFAULT '';",
        )?;
    }
    // GoTrue's names for the pending address and number (older files said `new_*`).
    let has_new_email = conn
        .prepare("SELECT 1 FROM pragma_table_info('users') WHERE name = 'new_email'")?
        .exists([])?;
    if has_new_email {
        conn.execute_batch(
            "ALTER TABLE users RENAME COLUMN new_email TO email_change; \
             ALTER TABLE users RENAME COLUMN new_phone TO phone_change;",
        )?;
    }
    Ok(())
}

/// Optional integer column helper.
pub(crate) type Ts = Option<i64>;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn migrate_adds_the_new_columns() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE sessions (id TEXT PRIMARY KEY, aal TEXT NOT NULL DEFAULT 'aal1'); \
             CREATE TABLE emails (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL);",
        )
        .unwrap();
        migrate(&conn).unwrap();
        migrate(&conn).unwrap();
        conn.execute("INSERT INTO sessions (id, factor_id) VALUES ('s', 'f')", [])
            .unwrap();
        conn.execute("INSERT INTO emails (id) VALUES ('e')", [])
            .unwrap();
        let (channel, body): (String, String) = conn
            .query_row("SELECT channel, body FROM emails", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((channel.as_str(), body.as_str()), ("email", ""));
    }

    #[test]
    fn migrate_gives_the_pending_address_and_number_gotrues_names() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE sessions (id TEXT PRIMARY KEY); \
             CREATE TABLE emails (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL); \
             CREATE TABLE users (id TEXT PRIMARY KEY, new_email TEXT NOT NULL DEFAULT '', \
             new_phone TEXT NOT NULL DEFAULT ''); \
             INSERT INTO users VALUES ('u', 'next@example.com', '+15555550100');",
        )
        .unwrap();
        migrate(&conn).unwrap();
        migrate(&conn).unwrap();
        let (email, phone): (String, String) = conn
            .query_row("SELECT email_change, phone_change FROM users", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(
            (email.as_str(), phone.as_str()),
            ("next@example.com", "+15555550100")
        );
    }
}
