//! [`Db`] and [`AdminDb`]: the request's transaction, as its user or bypassing RLS.

use std::fmt;
use std::ops::{Deref, DerefMut};

use axum_core::extract::FromRequestParts;
use http::StatusCode;
use http::request::Parts;
use sqlx::PgConnection;
use supabase_ssr::api_auth::Caller;
use supabase_ssr_axum::{ApiCaller, ApiError, AuthOutcome};

use super::layer::{Open, RequestDb};
use super::rls_error;
use crate::{DbIdentity, RlsError};

fn request_db(parts: &Parts, extractor: &str) -> Result<RequestDb, ApiError> {
    parts.extensions.get::<RequestDb>().cloned().ok_or_else(|| {
        tracing::error!("supabase-ssr-postgres: `{extractor}` on a route without RlsLayer");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_misconfigured",
            "this route has no RlsLayer",
        )
    })
}

/// Who the request runs as: the auth layers' verified user, or `anon`.
fn identity(parts: &Parts) -> Result<DbIdentity, ApiError> {
    let claims = if let Some(caller) = ApiCaller::from_extensions(&parts.extensions) {
        match caller {
            Caller::User(user) => Some(user.claims()),
            // An API key or nobody: the scoped client runs as anon, as @supabase/server's.
            _ => None,
        }
    } else if let Some(outcome) = AuthOutcome::from_extensions(&parts.extensions) {
        outcome.claims()
    } else {
        tracing::error!(
            "supabase-ssr-postgres: `Db` on a route with neither ApiAuthLayer nor SupabaseLayer"
        );
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_misconfigured",
            "this route has no auth layer to tell who the request runs as",
        ));
    };
    match claims {
        Some(claims) => DbIdentity::from_claims(claims).map_err(|e| rls_error(e.into())),
        None => Ok(DbIdentity::anon()),
    }
}

/// A transaction lent to a handler: given back to the layer when dropped, so the layer
/// commits or rolls it back once the response is known. When the request itself is being
/// dropped (panic, client gone), so is the layer's list, and sqlx rolls it back.
struct Lease {
    // `Some` from extraction until `commit`, `rollback` or drop, which all consume the
    // lease: no borrow can see it `None`.
    open: Option<Open>,
    request: RequestDb,
}

const CONSUMED: &str = "the transaction is present until it is committed or dropped";

impl Lease {
    fn conn(&self) -> &PgConnection {
        self.open
            .as_ref()
            .map(Open::conn)
            .unwrap_or_else(|| unreachable!("{CONSUMED}"))
    }

    fn conn_mut(&mut self) -> &mut PgConnection {
        self.open
            .as_mut()
            .map(Open::conn_mut)
            .unwrap_or_else(|| unreachable!("{CONSUMED}"))
    }

    async fn commit(mut self) -> Result<(), RlsError> {
        match self.open.take() {
            Some(open) => open.commit().await,
            None => Ok(()),
        }
    }

    async fn rollback(mut self) -> Result<(), RlsError> {
        match self.open.take() {
            Some(open) => open.rollback().await,
            None => Ok(()),
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(open) = self.open.take() {
            self.request.put_back(open);
        }
    }
}

/// The request's transaction as its verified user, or as `anon` when nobody is signed in
/// (or an API key called). Dereferences to [`sqlx::PgConnection`]:
/// `query.fetch_all(&mut *db)`.
///
/// Rejects with `403 unsupported_role` for a token whose role is neither
/// `authenticated` nor `anon` (never downgraded), `503 database_unavailable` when no
/// connection frees up within the pool's acquire timeout, and `500` when the route lacks
/// [`RlsLayer`](super::RlsLayer) or an auth layer.
pub struct Db(Lease);

impl Db {
    /// Commits now, and reports the outcome (instead of leaving it to the layer).
    pub async fn commit(self) -> Result<(), RlsError> {
        self.0.commit().await
    }

    /// Rolls back now.
    pub async fn rollback(self) -> Result<(), RlsError> {
        self.0.rollback().await
    }
}

impl Deref for Db {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        self.0.conn()
    }
}

impl DerefMut for Db {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.0.conn_mut()
    }
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Db");
        if let Some(Open::Scoped(tx)) = &self.0.open {
            debug.field("role", &tx.role());
        }
        debug.finish_non_exhaustive()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Db {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let request = request_db(parts, "Db")?;
        let identity = identity(parts)?;
        let tx = request.pool.begin(&identity).await.map_err(rls_error)?;
        Ok(Self(Lease {
            open: Some(Open::Scoped(tx)),
            request,
        }))
    }
}

/// A transaction as the pool's own role: **row-level security bypassed** (when that role
/// is a superuser, has `bypassrls`, or owns the tables). For what the app does on its own
/// authority, such as an admin listing; the route's auth layer still decides who may
/// call it. Committed or rolled back like [`Db`]; dereferences to
/// [`sqlx::PgConnection`].
pub struct AdminDb(Lease);

impl AdminDb {
    /// Commits now, and reports the outcome.
    pub async fn commit(self) -> Result<(), RlsError> {
        self.0.commit().await
    }
}

impl Deref for AdminDb {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        self.0.conn()
    }
}

impl DerefMut for AdminDb {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.0.conn_mut()
    }
}

impl fmt::Debug for AdminDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminDb").finish_non_exhaustive()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AdminDb {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let request = request_db(parts, "AdminDb")?;
        let tx = request
            .pool
            .begin_bypassing_rls()
            .await
            .map_err(rls_error)?;
        Ok(Self(Lease {
            open: Some(Open::Admin(tx)),
            request,
        }))
    }
}
