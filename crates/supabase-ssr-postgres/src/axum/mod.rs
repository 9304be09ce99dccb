//! axum integration (feature `axum`): the request's database access as one extractor,
//! committed when the handler's response is a success and rolled back otherwise.
//!
//! [`RlsLayer`] gives each request its pool; [`Db`] opens a transaction as the request's
//! verified user (or `anon`), as found by the auth layers of `supabase-ssr-axum`:
//! [`ApiAuthLayer`](supabase_ssr_axum::ApiAuthLayer) first, then
//! [`SupabaseLayer`](supabase_ssr_axum::SupabaseLayer)'s cookie session. [`AdminDb`] is the
//! explicit RLS bypass.
//!
//! ```no_run
//! use axum::{Json, Router, routing::get};
//! use supabase_ssr::api_auth::AuthMode;
//! use supabase_ssr_axum::{ApiAuthLayer, ApiError};
//! use supabase_ssr_postgres::RlsPool;
//! use supabase_ssr_postgres::axum::{Db, RlsLayer};
//!
//! async fn my_notes(mut db: Db) -> Result<Json<Vec<String>>, ApiError> {
//!     // No WHERE clause: row-level security decides which rows come back.
//!     let bodies = sqlx::query_scalar("select body from notes order by id")
//!         .fetch_all(&mut *db)
//!         .await
//!         .map_err(supabase_ssr_postgres::axum::database_error)?;
//!     Ok(Json(bodies))
//! }
//!
//! # fn app(auth: supabase_ssr::SupabaseAuth, pool: sqlx::PgPool) -> Router {
//! Router::new()
//!     .route("/notes", get(my_notes))
//!     .route_layer(ApiAuthLayer::new(auth, [AuthMode::User]))
//!     .layer(RlsLayer::new(RlsPool::new(pool)))
//! # }
//! ```
//!
//! When the handler returns, the transaction commits if the response status is below
//! 400 (a commit that fails turns the response into `500 commit_failed`), and rolls
//! back otherwise. A panicking handler, or a request whose client went away, drops the
//! transaction, which sqlx rolls back before the connection is used again. A handler
//! that wants to see the commit's outcome calls [`Db::commit`] itself.

mod extract;
mod layer;

pub use extract::{AdminDb, Db};
pub use layer::{RlsLayer, RlsService};

use std::fmt;

use http::StatusCode;
use supabase_ssr_axum::ApiError;

use crate::{RlsError, RlsErrorKind};

/// The answer for an [`RlsError`]: `403 unsupported_role`, `503 database_unavailable`
/// (pool exhausted), `500 database_error`. The database's own message is logged, never
/// sent (it can quote row data).
pub fn rls_error(error: RlsError) -> ApiError {
    match error.kind() {
        RlsErrorKind::UnsupportedRole => {
            ApiError::new(StatusCode::FORBIDDEN, "unsupported_role", error.to_string())
        }
        RlsErrorKind::PoolTimedOut => {
            tracing::warn!(%error, "supabase-ssr-postgres: no database connection free");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                "no database connection is free; try again",
            )
        }
        _ => database_error(error),
    }
}

/// The answer for a failed query: `500 database_error`, with the error logged and not
/// sent. Use [`rls_error`] for errors from this crate, which also knows roles and
/// pool timeouts.
pub fn database_error(error: impl fmt::Display) -> ApiError {
    tracing::error!(%error, "supabase-ssr-postgres: database error");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "database_error",
        "the database could not complete the request",
    )
}
