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

use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use axum_core::extract::FromRequestParts;
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use http::{Request, StatusCode};
use sqlx::{PgConnection, Postgres, Transaction};
use supabase_ssr::api_auth::Caller;
use supabase_ssr_axum::{ApiCaller, ApiError, AuthOutcome};
use tower_layer::Layer;
use tower_service::Service;

use crate::{DbIdentity, RlsError, RlsErrorKind, RlsPool, ScopedTransaction};

/// Gives every request the pool that [`Db`] and [`AdminDb`] open transactions on, and
/// commits or rolls back what they leave open when the handler returns.
///
/// Put it outside (after, in `.layer` order) the auth layers, or anywhere on the
/// router: it only needs to see the response.
#[derive(Clone)]
pub struct RlsLayer {
    pool: RlsPool,
}

impl RlsLayer {
    /// A layer over `pool`.
    pub fn new(pool: RlsPool) -> Self {
        Self { pool }
    }
}

impl fmt::Debug for RlsLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RlsLayer")
            .field("pool", &self.pool)
            .finish()
    }
}

impl<S> Layer<S> for RlsLayer {
    type Service = RlsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RlsService {
            inner,
            pool: self.pool.clone(),
        }
    }
}

/// The service [`RlsLayer`] wraps around an inner service.
#[derive(Clone)]
pub struct RlsService<S> {
    inner: S,
    pool: RlsPool,
}

impl<S: fmt::Debug> fmt::Debug for RlsService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RlsService")
            .field("inner", &self.inner)
            .field("pool", &self.pool)
            .finish()
    }
}

/// A transaction a handler left open, waiting for the response's verdict.
enum Open {
    Scoped(ScopedTransaction),
    Admin(Transaction<'static, Postgres>),
}

impl Open {
    async fn commit(self) -> Result<(), RlsError> {
        match self {
            Self::Scoped(tx) => tx.commit().await,
            Self::Admin(tx) => tx.commit().await.map_err(RlsError::from),
        }
    }

    async fn rollback(self) -> Result<(), RlsError> {
        match self {
            Self::Scoped(tx) => tx.rollback().await,
            Self::Admin(tx) => tx.rollback().await.map_err(RlsError::from),
        }
    }
}

/// What the layer puts in the request: the pool, and where extractors leave open
/// transactions for the layer.
#[derive(Clone)]
struct RequestDb {
    pool: RlsPool,
    open: Arc<Mutex<Vec<Open>>>,
}

impl RequestDb {
    fn put_back(&self, open: Open) {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(open);
    }

    fn take_all(&self) -> Vec<Open> {
        std::mem::take(&mut *self.open.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, ReqBody> Service<Request<ReqBody>> for RlsService<S>
where
    S: Service<Request<ReqBody>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let db = RequestDb {
            pool: self.pool.clone(),
            open: Arc::default(),
        };
        req.extensions_mut().insert(db.clone());
        Box::pin(async move {
            let response = inner.call(req).await?;
            Ok(finish(&db, response).await)
        })
    }
}

/// Commits what the handler left open when its answer is a success, rolls it back
/// otherwise.
async fn finish(db: &RequestDb, mut response: Response) -> Response {
    let open = db.take_all();
    if open.is_empty() {
        return response;
    }
    let success = response.status().as_u16() < 400;
    for tx in open {
        if success {
            if let Err(error) = tx.commit().await {
                tracing::error!(%error, "supabase-ssr-postgres: commit failed");
                response = ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "commit_failed",
                    "the changes could not be saved",
                )
                .into_response();
            }
        } else if let Err(error) = tx.rollback().await {
            // The connection is closed or broken; sqlx will not hand it out again as is.
            tracing::warn!(%error, "supabase-ssr-postgres: rollback failed");
        }
    }
    response
}

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

/// The request's transaction as its verified user, or as `anon` when nobody is signed in
/// (or an API key called). Dereferences to [`sqlx::PgConnection`]:
/// `query.fetch_all(&mut *db)`.
///
/// Rejects with `403 unsupported_role` for a token whose role is neither
/// `authenticated` nor `anon` (never downgraded), `503 database_unavailable` when no
/// connection frees up within the pool's acquire timeout, and `500` when the route lacks
/// [`RlsLayer`] or an auth layer.
pub struct Db {
    tx: Option<ScopedTransaction>,
    request: RequestDb,
}

impl Db {
    /// Commits now, and reports the outcome (instead of leaving it to the layer).
    pub async fn commit(mut self) -> Result<(), RlsError> {
        match self.tx.take() {
            Some(tx) => tx.commit().await,
            None => Ok(()),
        }
    }

    /// Rolls back now.
    pub async fn rollback(mut self) -> Result<(), RlsError> {
        match self.tx.take() {
            Some(tx) => tx.rollback().await,
            None => Ok(()),
        }
    }
}

// `tx` is `Some` from extraction until `commit`, `rollback` or drop, which all consume
// the `Db`: no borrow can see it `None`.
const CONSUMED: &str = "the transaction is present until the Db is consumed";

impl Deref for Db {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        self.tx
            .as_deref()
            .unwrap_or_else(|| unreachable!("{CONSUMED}"))
    }
}

impl DerefMut for Db {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.tx
            .as_deref_mut()
            .unwrap_or_else(|| unreachable!("{CONSUMED}"))
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        // Left open: the layer commits or rolls back once the response is known. When
        // the request itself is being dropped (panic, client gone), so is the layer's
        // list, and sqlx rolls the transaction back.
        if let Some(tx) = self.tx.take() {
            self.request.put_back(Open::Scoped(tx));
        }
    }
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db").field("tx", &self.tx).finish()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Db {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let request = request_db(parts, "Db")?;
        let identity = identity(parts)?;
        let tx = request.pool.begin(&identity).await.map_err(rls_error)?;
        Ok(Self {
            tx: Some(tx),
            request,
        })
    }
}

/// A transaction as the pool's own role: **row-level security bypassed** (when that role
/// is a superuser, has `bypassrls`, or owns the tables). For what the app does on its own
/// authority, such as an admin listing; the route's auth layer still decides who may
/// call it. Committed or rolled back like [`Db`]; dereferences to
/// [`sqlx::PgConnection`].
pub struct AdminDb {
    tx: Option<Transaction<'static, Postgres>>,
    request: RequestDb,
}

impl AdminDb {
    /// Commits now, and reports the outcome.
    pub async fn commit(mut self) -> Result<(), RlsError> {
        match self.tx.take() {
            Some(tx) => tx.commit().await.map_err(RlsError::from),
            None => Ok(()),
        }
    }
}

impl Deref for AdminDb {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        self.tx
            .as_deref()
            .unwrap_or_else(|| unreachable!("{CONSUMED}"))
    }
}

impl DerefMut for AdminDb {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.tx
            .as_deref_mut()
            .unwrap_or_else(|| unreachable!("{CONSUMED}"))
    }
}

impl Drop for AdminDb {
    fn drop(&mut self) {
        if let Some(tx) = self.tx.take() {
            self.request.put_back(Open::Admin(tx));
        }
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
        Ok(Self {
            tx: Some(tx),
            request,
        })
    }
}
