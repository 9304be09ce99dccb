//! [`RlsLayer`]: the pool for each request, and the commit or rollback of what its
//! handler left open.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use axum_core::response::{IntoResponse, Response};
use http::{Request, StatusCode};
use sqlx::{PgConnection, Postgres, Transaction};
use supabase_ssr_axum::ApiError;
use tower_layer::Layer;
use tower_service::Service;

use crate::{RlsError, RlsPool, ScopedTransaction};

/// Gives every request the pool that [`Db`](super::Db) and [`AdminDb`](super::AdminDb)
/// open transactions on, and commits or rolls back what they leave open when the handler
/// returns.
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
pub(super) enum Open {
    Scoped(ScopedTransaction),
    Admin(Transaction<'static, Postgres>),
}

impl Open {
    pub(super) fn conn(&self) -> &PgConnection {
        match self {
            Self::Scoped(tx) => tx,
            Self::Admin(tx) => tx,
        }
    }

    pub(super) fn conn_mut(&mut self) -> &mut PgConnection {
        match self {
            Self::Scoped(tx) => tx,
            Self::Admin(tx) => tx,
        }
    }

    pub(super) async fn commit(self) -> Result<(), RlsError> {
        match self {
            Self::Scoped(tx) => tx.commit().await,
            Self::Admin(tx) => tx.commit().await.map_err(RlsError::from),
        }
    }

    pub(super) async fn rollback(self) -> Result<(), RlsError> {
        match self {
            Self::Scoped(tx) => tx.rollback().await,
            Self::Admin(tx) => tx.rollback().await.map_err(RlsError::from),
        }
    }
}

/// What the layer puts in the request: the pool, and where extractors leave open
/// transactions for the layer.
#[derive(Clone)]
pub(super) struct RequestDb {
    pub(super) pool: RlsPool,
    open: Arc<Mutex<Vec<Open>>>,
}

impl RequestDb {
    pub(super) fn put_back(&self, open: Open) {
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
