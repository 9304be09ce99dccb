#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "axum")]
pub mod axum;
mod error;
mod identity;
mod pool;

pub use error::{RlsError, RlsErrorKind};
pub use identity::{DbIdentity, DbRole, UnsupportedRole};
pub use pool::{RlsPool, ScopedTransaction};

/// The SQL that recreates what Supabase's database provides for row-level security, for
/// local development and tests: the roles `anon`, `authenticated` and `service_role`, the
/// connecting role's membership in them, the schema `auth` with `auth.uid()`,
/// `auth.role()` and `auth.jwt()`, and usage grants on `auth` and `public`.
///
/// Idempotent (safe to run twice, and where the roles exist); run it as a superuser with
/// [`sqlx::raw_sql`]. It grants nothing on tables: give each table explicit grants and
/// policies, as newer Supabase projects require. Supabase itself already has all of it.
pub const SUPABASE_BOOTSTRAP_SQL: &str = include_str!("../sql/supabase_bootstrap.sql");

/// Runs [`SUPABASE_BOOTSTRAP_SQL`] on `conn` unless its database already has `auth.uid()`
/// (a Supabase database, or one bootstrapped before), for apps that start on a local
/// PostgreSQL as well as on Supabase. Returns whether it ran. Needs a superuser the first
/// time.
pub async fn bootstrap_if_missing(conn: &mut sqlx::PgConnection) -> Result<bool, sqlx::Error> {
    let missing: bool = sqlx::query_scalar("select to_regprocedure('auth.uid()') is null")
        .fetch_one(&mut *conn)
        .await?;
    if missing {
        sqlx::raw_sql(SUPABASE_BOOTSTRAP_SQL).execute(conn).await?;
    }
    Ok(missing)
}
