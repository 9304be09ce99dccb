//! The `profiles` table (`sql/profiles.sql`), as the account page reads it: on a
//! transaction as the signed-in user, with no `where id = ...`, so row-level security is
//! what makes the one row there the user's own.

use sqlx::PgConnection;
use supabase_ssr::VerifiedClaims;
use supabase_ssr_postgres::RlsPool;
use supabase_ssr_postgres::axum::{database_error, rls_error};

/// A row of `public.profiles`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct Profile {
    pub(crate) id: String,
    pub(crate) display_name: Option<String>,
    /// `2026-12-01 09:30:05 UTC`, formatted by the database.
    pub(crate) created_at: String,
}

/// What the account page shows about the profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProfileState {
    Found(Profile),
    /// The query ran and RLS let no row through.
    NoRow,
    /// No profiles here (no database, or a real project's without the table): why.
    Unavailable(String),
    /// The database failed; the safe message (the cause is logged).
    Failed(String),
}

/// The caller's profile. No filter: RLS returns only the caller's row.
pub(crate) async fn own(db: &mut PgConnection) -> Result<Option<Profile>, sqlx::Error> {
    sqlx::query_as(
        "select id::text as id, display_name, \
         to_char(created_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC' as created_at \
         from public.profiles",
    )
    .fetch_optional(db)
    .await
}

/// Reads the profile of `claims`' user in a transaction as that user, from `pool`, or
/// says why there is none (found at start-up).
pub(crate) async fn read(pool: Result<&RlsPool, &str>, claims: &VerifiedClaims) -> ProfileState {
    let pool = match pool {
        Ok(pool) => pool,
        Err(why) => return ProfileState::Unavailable(why.to_owned()),
    };
    let mut tx = match pool.begin_for(Some(claims)).await {
        Ok(tx) => tx,
        Err(e) => return ProfileState::Failed(rls_error(e).message().to_owned()),
    };
    let state = match own(&mut tx).await {
        Ok(Some(profile)) => ProfileState::Found(profile),
        Ok(None) => ProfileState::NoRow,
        Err(e) => ProfileState::Failed(database_error(e).message().to_owned()),
    };
    // Nothing was written; dropping it would roll back as well, a little later.
    if let Err(e) = tx.rollback().await {
        tracing::warn!(error = %e, "rolling back the profile read failed");
    }
    state
}
