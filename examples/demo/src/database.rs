//! The demo's database: a throwaway PostgreSQL or `DATABASE_URL`, with Supabase's roles
//! and `auth` functions and the `notes` table created when missing, and, once the
//! embedded Auth emulator keeps its users there, the `profiles` table with its trigger on
//! `auth.users`.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};
use supabase_ssr_postgres::{RlsPool, bootstrap_if_missing};
use throwaway_postgres::ThrowawayPostgres;

use crate::{Database, DemoError};

/// The example table with its RLS policies, from the crate that documents it.
const NOTES_SQL: &str = include_str!("../../../crates/supabase-ssr-postgres/sql/notes_example.sql");

/// `public.profiles` and the trigger on `auth.users` that fills it; idempotent.
const PROFILES_SQL: &str = include_str!("../sql/profiles.sql");

/// What the account page says on a real project whose database has no profiles table:
/// the demo changes nothing in a real project's `auth` schema.
const PROFILES_NOT_CREATED: &str = "Profiles need the public.profiles table of \
                                    examples/demo/sql/profiles.sql in your Supabase project's \
                                    database: run it in the SQL editor, and set DATABASE_URL to \
                                    that database.";

/// Why there is no database, worded for the notes pages or the account page.
#[derive(Debug, Clone, PartialEq, Eq)]
enum NoDatabase {
    /// PostgreSQL's server programs are not installed.
    NotInstalled,
    /// `DATABASE_URL=off`.
    TurnedOff,
    /// Installed, but the throwaway server failed (a full /dev/shm, no `postgres` user
    /// under root): the first line of why.
    DidNotStart(String),
}

impl NoDatabase {
    /// The message for `feature` (`Notes`, `Profiles`: a plural noun).
    fn message(&self, feature: &str) -> String {
        match self {
            Self::NotInstalled => format!(
                "{feature} need PostgreSQL: apt-get install postgresql, or set \
                 DATABASE_URL=postgres://..."
            ),
            Self::TurnedOff => format!(
                "{feature} are off (DATABASE_URL=off): unset DATABASE_URL for a throwaway \
                 PostgreSQL, or set DATABASE_URL=postgres://..."
            ),
            Self::DidNotStart(why) => format!(
                "{feature} are off: the throwaway PostgreSQL did not start ({why}). \
                 Set DATABASE_URL=postgres://... to use another server."
            ),
        }
    }
}

/// A demo has few users; a handful of connections is plenty.
const MAX_CONNECTIONS: u32 = 5;
/// How long a request waits for a free connection before a 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// No statement of the demo's runs longer; a stuck one is cut off.
const STATEMENT_TIMEOUT: &str = "5s";

/// Where the account page reads profiles, or why it cannot.
pub(crate) type Profiles = Result<RlsPool, String>;

/// The database in use, if any.
pub(crate) struct NotesDb {
    pub(crate) pool: Option<PgPool>,
    /// Our own server, when it is a throwaway one: stopped (and removed) with the demo.
    pub(crate) server: Option<ThrowawayPostgres>,
    /// The connection URL, with its password when it has one.
    pub(crate) url: Option<String>,
    /// One line for the start-up banner: the server, or why there is none.
    pub(crate) summary: String,
    /// Why there is none.
    missing: Option<NoDatabase>,
}

impl NotesDb {
    fn off(why: NoDatabase) -> Self {
        Self {
            pool: None,
            server: None,
            url: None,
            summary: why.message("Notes"),
            missing: Some(why),
        }
    }

    /// The socket directory of the throwaway server (it holds the whole cluster).
    pub(crate) fn throwaway_dir(&self) -> Option<PathBuf> {
        self.server.as_ref()?;
        let url = url::Url::parse(self.url.as_deref()?).ok()?;
        url.query_pairs()
            .find(|(k, _)| k == "host")
            .map(|(_, dir)| PathBuf::from(dir.into_owned()))
    }

    /// Creates (or brings up to date) `public.profiles` and its trigger on
    /// `auth.users`, and gives users already there their profile. Only for the
    /// emulator's `auth` schema, in this database since the emulator started on it: the
    /// demo leaves a real project's `auth.users` alone. Returns the pool the account
    /// page reads profiles from, or why there is none.
    pub(crate) async fn create_profiles(&self) -> Result<Profiles, DemoError> {
        let Some(pool) = &self.pool else {
            return Ok(Err(self.profiles_missing()));
        };
        sqlx::raw_sql(PROFILES_SQL)
            .execute(pool)
            .await
            .map_err(self.fail("creating public.profiles"))?;
        Ok(Ok(RlsPool::new(pool.clone())))
    }

    /// With a real project: the pool when this database has `public.profiles` (made by
    /// hand from `sql/profiles.sql`), else why the account page shows no profile.
    pub(crate) async fn find_profiles(&self) -> Result<Profiles, DemoError> {
        let Some(pool) = &self.pool else {
            return Ok(Err(self.profiles_missing()));
        };
        let found: bool = sqlx::query_scalar("select to_regclass('public.profiles') is not null")
            .fetch_one(pool)
            .await
            .map_err(self.fail("looking for public.profiles"))?;
        Ok(match found {
            true => Ok(RlsPool::new(pool.clone())),
            false => Err(PROFILES_NOT_CREATED.to_owned()),
        })
    }

    /// Whether the emulator, keeping its users here, already has `email` (from an
    /// earlier run on the same `DATABASE_URL`). `false` without a database: the emulator
    /// then starts empty.
    pub(crate) async fn has_user(&self, email: &str) -> Result<bool, DemoError> {
        let Some(pool) = &self.pool else {
            return Ok(false);
        };
        sqlx::query_scalar("select exists (select 1 from auth.users where email = $1)")
            .bind(email)
            .fetch_one(pool)
            .await
            .map_err(self.fail("looking for the demo user"))
    }

    fn profiles_missing(&self) -> String {
        self.missing
            .as_ref()
            .unwrap_or(&NoDatabase::NotInstalled)
            .message("Profiles")
    }

    fn fail(&self, action: &'static str) -> impl FnOnce(sqlx::Error) -> DemoError + use<> {
        let url = redact(self.url.as_deref().unwrap_or_default());
        move |e| DemoError::Database {
            url,
            action,
            source: Box::new(e),
        }
    }

    /// Closes the pool, then stops the throwaway server and removes its directory.
    pub(crate) async fn close(mut self) {
        if let Some(pool) = self.pool.take() {
            pool.close().await;
        }
        if let Some(server) = self.server.take() {
            // Blocking: it waits for the server process to exit.
            if let Err(e) = tokio::task::spawn_blocking(move || server.stop()).await {
                tracing::warn!(error = %e, "stopping the throwaway PostgreSQL failed");
            }
        }
    }
}

/// Starts or connects to the configured database and creates what is missing.
pub(crate) async fn open(choice: &Database) -> Result<NotesDb, DemoError> {
    match choice {
        Database::Off => Ok(NotesDb::off(NoDatabase::TurnedOff)),
        Database::Url(url) => {
            let pool = connect(url).await?;
            Ok(NotesDb {
                pool: Some(pool),
                server: None,
                url: Some(url.clone()),
                summary: redact(url),
                missing: None,
            })
        }
        Database::Throwaway => {
            let started = tokio::task::spawn_blocking(ThrowawayPostgres::start).await;
            let server = match started {
                Ok(Ok(server)) => server,
                Ok(Err(e)) if e.is_not_installed() => {
                    return Ok(NotesDb::off(NoDatabase::NotInstalled));
                }
                // Installed but failing: the demo still runs, and says why notes are off.
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "the throwaway PostgreSQL did not start");
                    let why = first_line(&e.to_string()).to_owned();
                    return Ok(NotesDb::off(NoDatabase::DidNotStart(why)));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "starting the throwaway PostgreSQL panicked");
                    return Ok(NotesDb::off(NoDatabase::NotInstalled));
                }
            };
            let url = server.url().to_owned();
            let pool = connect(&url).await?;
            let version = server_version(&pool).await;
            Ok(NotesDb {
                pool: Some(pool),
                server: Some(server),
                url: Some(url),
                summary: format!("throwaway PostgreSQL {version} (removed on exit)"),
                missing: None,
            })
        }
    }
}

/// A pool on `url`, with the Supabase bootstrap and the notes table applied when missing.
async fn connect(url: &str) -> Result<PgPool, DemoError> {
    let fail = |action: &'static str| {
        move |e: sqlx::Error| DemoError::Database {
            url: redact(url),
            action,
            source: Box::new(e),
        }
    };
    let options = PgConnectOptions::from_str(url).map_err(fail("reading the URL"))?;
    // One connection first: its error says why (refused, bad password), where the
    // pool's would only say it timed out.
    let mut conn = tokio::time::timeout(ACQUIRE_TIMEOUT, PgConnection::connect_with(&options))
        .await
        .map_err(|_| DemoError::Database {
            url: redact(url),
            action: "connecting",
            source: format!("no answer within {} s", ACQUIRE_TIMEOUT.as_secs()).into(),
        })?
        .map_err(fail("connecting"))?;
    // Supabase's database has both already; a plain PostgreSQL gets them once.
    bootstrap_if_missing(&mut conn)
        .await
        .map_err(fail("creating the Supabase roles and auth functions"))?;
    if missing("select to_regclass('public.notes') is null", &mut conn)
        .await
        .map_err(fail("looking for public.notes"))?
    {
        sqlx::raw_sql(NOTES_SQL)
            .execute(&mut conn)
            .await
            .map_err(fail("creating public.notes"))?;
    }
    conn.close()
        .await
        .map_err(fail("closing the set-up connection"))?;
    PgPoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .after_connect(|conn, _| {
            Box::pin(async move {
                // A session setting (not a startup option), so poolers accept it too.
                let sql = format!("set statement_timeout = '{STATEMENT_TIMEOUT}'");
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(conn)
                    .await
                    .map(drop)
            })
        })
        .connect_with(options)
        .await
        .map_err(fail("connecting"))
}

/// Runs a `select ... is null` check.
async fn missing(sql: &'static str, conn: &mut PgConnection) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(sql).fetch_one(conn).await
}

/// `15.14` from `15.14 (Debian 15.14-0+deb12u1)`; empty when it cannot be read.
async fn server_version(pool: &PgPool) -> String {
    sqlx::query_scalar::<_, String>("select current_setting('server_version')")
        .fetch_one(pool)
        .await
        .ok()
        .and_then(|v| v.split_whitespace().next().map(str::to_owned))
        .unwrap_or_default()
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// The URL without its password (in the user part or a `password` parameter), for logs
/// and the banner.
pub(crate) fn redact(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return "(an unreadable database URL)".to_owned();
    };
    // Only fails for URLs without a host, which have no password either.
    let _ = parsed.set_password(None);
    if parsed.query_pairs().any(|(k, _)| k == "password") {
        let kept: Vec<(String, String)> = parsed
            .query_pairs()
            .filter(|(k, _)| k != "password")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        parsed.set_query(None);
        if !kept.is_empty() {
            parsed.query_pairs_mut().extend_pairs(kept);
        }
    }
    parsed.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_left_out() {
        assert_eq!(
            redact("postgres://me:s3cret@db.example:5432/app"),
            "postgres://me@db.example:5432/app"
        );
        assert_eq!(
            redact("postgres://me@db.example/app?password=s3cret&sslmode=require"),
            "postgres://me@db.example/app?sslmode=require"
        );
        assert_eq!(
            redact("postgres://me@localhost/app?password=x"),
            "postgres://me@localhost/app"
        );
        assert_eq!(
            redact("postgres://postgres@localhost:5432/postgres?host=/dev/shm/pg-abc"),
            "postgres://postgres@localhost:5432/postgres?host=/dev/shm/pg-abc"
        );
        assert_eq!(redact("not a url"), "(an unreadable database URL)");
    }

    #[test]
    fn each_reason_is_worded_for_the_notes_and_the_profiles() {
        assert_eq!(
            NoDatabase::TurnedOff.message("Notes"),
            "Notes are off (DATABASE_URL=off): unset DATABASE_URL for a throwaway \
             PostgreSQL, or set DATABASE_URL=postgres://..."
        );
        assert_eq!(
            NoDatabase::NotInstalled.message("Profiles"),
            "Profiles need PostgreSQL: apt-get install postgresql, or set \
             DATABASE_URL=postgres://..."
        );
        assert_eq!(
            NoDatabase::DidNotStart("no space left".into()).message("Profiles"),
            "Profiles are off: the throwaway PostgreSQL did not start (no space left). \
             Set DATABASE_URL=postgres://... to use another server."
        );
    }

    #[test]
    fn the_first_line_of_an_error() {
        assert_eq!(first_line("a\nb"), "a");
        assert_eq!(first_line(""), "");
    }
}
