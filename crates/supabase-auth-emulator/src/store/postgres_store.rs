//! The PostgreSQL store: users, identities, sessions and tokens in the database's `auth`
//! schema, with GoTrue's table and column names, so an application's
//! `references auth.users(id)` and `after insert on auth.users` triggers work as they do
//! on Supabase. The emulator's own tables (inbox, signing keys) are in `auth_emulator`.
//!
//! The sync `postgres` client runs its own small runtime, which must not be entered from
//! a thread that drives async tasks: every call runs on a short-lived scoped thread.

use std::cell::RefCell;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::db::{Db, DbError};
use crate::error::{EmulatorError, ErrorKind};

/// The schema: idempotent, so every start runs it.
const SCHEMA: &str = include_str!("postgres.sql");

/// Queries name tables without a schema; GoTrue's own connections use `auth` as well,
/// so an application's unqualified names in a trigger fail here as they do on Supabase.
/// UTC: GoTrue's few `timestamp` (without time zone) columns are read and written as UTC.
const SESSION_SETTINGS: &str = "SET search_path TO auth, auth_emulator; SET TIME ZONE 'UTC'";

/// Emulators starting together on one database create the schema one at a time.
const SCHEMA_LOCK: i64 = 0x5375_7061_6175_7468; // "Supaauth"

/// Without a connect timeout of the URL's own, an unreachable server fails start-up
/// after this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Columns the emulator reads and writes that an `auth` schema made by another Auth
/// server may lack: checked at start, in the tables that exist, so the error names them
/// instead of failing on the first index or a later 500.
const EMULATOR_COLUMNS: &[(&str, &str)] = &[
    ("sessions", "amr"),
    ("flow_state", "redirect_to"),
    ("users", "email_change_confirm_status"),
    ("users", "is_anonymous"),
];

pub(crate) struct PgStore {
    config: postgres::Config,
    conn: Mutex<Option<PgConn>>,
}

struct PgConn {
    client: postgres::Client,
    /// Prepared statements by their SQL (as written for both databases).
    statements: RefCell<HashMap<String, postgres::Statement>>,
}

/// Runs `f` on a thread of its own, outside any async runtime.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(f)
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// libpq reads `postgres://u@localhost:5432/db?host=/run/pg` as "the socket in /run/pg,
/// port 5432"; `postgres` adds the query's host to the URL's, and would try
/// `localhost` over TCP first (perhaps another server). With a `host` in the query, this
/// drops the URL's host and keeps its port as a `port` parameter, as libpq does.
fn libpq_hosts(url: &str) -> std::borrow::Cow<'_, str> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.into();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let query = tail.split_once('?').map_or("", |(_, q)| q);
    let has = |name: &str| {
        query
            .split('&')
            .any(|pair| pair.split('=').next() == Some(name))
    };
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((user, hostport)) => (Some(user), hostport),
        None => (None, authority),
    };
    if !has("host") || hostport.is_empty() {
        return url.into();
    }
    // `[::1]:5432`, `host:5432` or `host`; several hosts are left as they are.
    if hostport.contains(',') {
        return url.into();
    }
    let port = match hostport.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(':') && !port.contains(']') => Some(port),
        _ => None,
    };
    let mut out = format!("{scheme}://");
    if let Some(user) = userinfo {
        out.push_str(user);
        out.push('@');
    }
    out.push_str(tail);
    if let Some(port) = port.filter(|p| !p.is_empty() && !has("port")) {
        out.push(if tail.contains('?') { '&' } else { '?' });
        out.push_str("port=");
        out.push_str(port);
    }
    out.into()
}

fn describe(config: &postgres::Config) -> String {
    // Host and database only: the URL may hold a password.
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            postgres::config::Host::Tcp(name) => name.clone(),
            #[cfg(unix)]
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    format!(
        "PostgreSQL at {host}, database {}",
        config.get_dbname().unwrap_or("(default)")
    )
}

impl PgStore {
    pub(crate) fn open(url: &str) -> Result<Self, EmulatorError> {
        let mut config = postgres::Config::from_str(&libpq_hosts(url)).map_err(|e| {
            EmulatorError::with_source(
                ErrorKind::Config,
                "the database URL is not a PostgreSQL connection string",
                e,
            )
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let store = Self {
            config,
            conn: Mutex::new(None),
        };
        off_runtime(|| {
            let mut conn = store.connect()?;
            // Before the schema: its indexes would fail first on another server's tables.
            check_columns(&mut conn.client, &store.config)?;
            create_schema(&mut conn.client).map_err(|e| {
                EmulatorError::with_source(
                    ErrorKind::Database,
                    format!(
                        "cannot create the auth schema in {}",
                        describe(&store.config)
                    ),
                    DbError::from(e),
                )
            })?;
            *store.conn.lock().unwrap_or_else(PoisonError::into_inner) = Some(conn);
            Ok::<_, EmulatorError>(())
        })?;
        Ok(store)
    }

    /// `PostgreSQL at HOST, database NAME`.
    pub(crate) fn describe(&self) -> String {
        describe(&self.config)
    }

    fn connect(&self) -> Result<PgConn, EmulatorError> {
        let mut client = self.config.connect(postgres::NoTls).map_err(|e| {
            EmulatorError::with_source(
                ErrorKind::Database,
                format!("cannot connect to {}", describe(&self.config)),
                DbError::from(e),
            )
        })?;
        client.batch_execute(SESSION_SETTINGS)?;
        Ok(PgConn {
            client,
            statements: RefCell::new(HashMap::new()),
        })
    }

    /// Runs `f` in a transaction. A connection found closed is replaced first; one that
    /// fails at `BEGIN` (the server restarted, or ended it) is replaced and `BEGIN` tried
    /// once more: nothing has run yet, so the retry is safe.
    pub(crate) fn tx<T, E>(&self, f: impl FnOnce(&Db<'_>) -> Result<T, E> + Send) -> Result<T, E>
    where
        T: Send,
        E: From<DbError> + Send,
    {
        off_runtime(|| {
            let mut f = Some(f);
            let mut guard = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
            for attempt in 0..2 {
                let PgConn { client, statements } = self.live(&mut guard)?;
                let error = match client.transaction() {
                    Ok(tx) => {
                        let Some(f) = f.take() else { break };
                        // A panic inside `f` drops the transaction, which rolls it back.
                        let db = Db::postgres(tx, statements);
                        let out = f(&db)?;
                        db.commit()?;
                        return Ok(out);
                    }
                    Err(e) => e,
                };
                if attempt > 0 || !client.is_closed() {
                    return Err(E::from(DbError::from(error)));
                }
                // `live` makes a new connection on the next round.
                tracing::warn!(error = %error, "the PostgreSQL connection was lost; reconnecting");
            }
            Err(E::from(reconnect_error(&self.config)))
        })
    }

    /// The open connection, made first if there is none or it was closed.
    fn live<'g>(&self, slot: &'g mut Option<PgConn>) -> Result<&'g mut PgConn, DbError> {
        if slot.as_ref().is_none_or(|c| c.client.is_closed()) {
            *slot = None;
            match self.connect() {
                Ok(conn) => *slot = Some(conn),
                Err(e) => {
                    tracing::error!(error = %e, "the PostgreSQL store is unreachable");
                    return Err(reconnect_error(&self.config));
                }
            }
        }
        slot.as_mut().ok_or_else(|| reconnect_error(&self.config))
    }
}

impl Drop for PgStore {
    /// Closing the client blocks on its runtime, which panics on an async thread (where
    /// an emulator usually shuts down): close it on a thread of its own.
    fn drop(&mut self) {
        let conn = self
            .conn
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(conn) = conn {
            off_runtime(move || drop(conn));
        }
    }
}

fn reconnect_error(config: &postgres::Config) -> DbError {
    DbError::Unreachable(describe(config))
}

impl From<postgres::Error> for EmulatorError {
    fn from(e: postgres::Error) -> Self {
        Self::with_source(ErrorKind::Database, "database error", DbError::from(e))
    }
}

fn create_schema(client: &mut postgres::Client) -> Result<(), postgres::Error> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])?;
    tx.batch_execute(SCHEMA)?;
    tx.commit()
}

fn check_columns(
    client: &mut postgres::Client,
    config: &postgres::Config,
) -> Result<(), EmulatorError> {
    let mut missing = Vec::new();
    for (table, column) in EMULATOR_COLUMNS {
        let lacking = client.query_one(
            "SELECT to_regclass(format('auth.%I', $1::text)) IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM information_schema.columns \
             WHERE table_schema = 'auth' AND table_name = $1 AND column_name = $2)",
            &[table, column],
        )?;
        if lacking.get::<_, bool>(0) {
            missing.push(format!("auth.{table}.{column}"));
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(EmulatorError::new(
        ErrorKind::Database,
        format!(
            "{} already has an `auth` schema made by another Auth server: it lacks {}. \
             Use a database without one (the emulator creates its own).",
            describe(config),
            missing.join(", ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_host_in_the_query_replaces_the_urls_host_as_in_libpq() {
        assert_eq!(
            libpq_hosts("postgres://postgres@localhost:5432/db_1?host=%2Ftmp%2Fpg"),
            "postgres://postgres@/db_1?host=%2Ftmp%2Fpg&port=5432"
        );
        assert_eq!(
            libpq_hosts("postgres://u:pw@localhost/db?host=/run/pg&port=6000"),
            "postgres://u:pw@/db?host=/run/pg&port=6000"
        );
        for unchanged in [
            "postgres://u:pw@db.example:5432/app",
            "postgres:///app?host=/run/pg",
            "postgres://a:1,b:2/app?host=/run/pg",
            "not a url",
        ] {
            assert_eq!(libpq_hosts(unchanged), unchanged);
        }
        let config = postgres::Config::from_str(&libpq_hosts(
            "postgres://postgres@localhost:5432/db?host=/run/pg",
        ))
        .unwrap();
        assert_eq!(
            config.get_hosts(),
            &[postgres::config::Host::Unix("/run/pg".into())]
        );
        assert_eq!(config.get_ports(), &[5432]);
        assert_eq!(describe(&config), "PostgreSQL at /run/pg, database db");
    }
}
