//! `notes-api`: an axum JSON API that acts as the verified user.
//!
//! A bearer token (`Authorization: Bearer <access token>`) is verified locally against
//! the project's JWKS by `ApiAuthLayer`; the handlers then read and write a `notes`
//! table through `Db`, a transaction that runs as that user, so PostgreSQL's row-level
//! security policies decide which rows they see. `GET /all-notes` is the explicit admin
//! path (`AdminDb`, RLS bypassed). Every answer is JSON; every refusal is
//! `{"code": ..., "message": ...}`.
//!
//! `GET /profile` reads the caller's row of `profiles`, which a trigger on `auth.users`
//! fills when the Auth server adds a user: the demo's `sql/profiles.sql`, set up by
//! [`create_profiles`] once the embedded emulator keeps its users in the same database.
//!
//! `main.rs` runs it on the embedded Auth emulator and a throwaway PostgreSQL; see the
//! README.
#![forbid(unsafe_code)]

mod routes;

pub use routes::router;

use sqlx::PgPool;

/// The `notes` table with its row-level security policies: the example schema of
/// `supabase-ssr-postgres`.
const NOTES_SQL: &str = include_str!("../../../crates/supabase-ssr-postgres/sql/notes_example.sql");

/// Makes the database ready for the API: Supabase's roles and `auth` functions when
/// they are missing (a local PostgreSQL; a Supabase database has them), then the
/// `notes` table when it is missing.
pub async fn prepare_database(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    supabase_ssr_postgres::bootstrap_if_missing(&mut conn).await?;
    let has_notes: bool = sqlx::query_scalar("select to_regclass('public.notes') is not null")
        .fetch_one(&mut *conn)
        .await?;
    if !has_notes {
        sqlx::raw_sql(NOTES_SQL).execute(&mut *conn).await?;
    }
    Ok(())
}

/// `public.profiles` and the trigger on `auth.users` that fills it: the demo's, shared so
/// both examples show the one pattern. Idempotent.
const PROFILES_SQL: &str = include_str!("../../demo/sql/profiles.sql");

/// Creates (or brings up to date) `public.profiles` and its trigger on `auth.users`, and
/// gives users already there their profile. Run it once the emulator has made
/// `auth.users` in this database, before users sign up; not on a real project's database,
/// whose `auth` schema the app should not change at start-up.
pub async fn create_profiles(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(PROFILES_SQL).execute(pool).await.map(drop)
}
