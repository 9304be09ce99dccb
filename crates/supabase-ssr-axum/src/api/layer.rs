//! [`ApiAuthLayer`]: an endpoint's auth modes, as a tower layer.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum_core::response::{IntoResponse, Response};
use http::Request;
use supabase_ssr::SupabaseAuth;
use supabase_ssr::api_auth::{AuthModes, Credentials};
use tower_layer::Layer;
use tower_service::Service;

use super::ApiError;
use crate::Supabase;

/// Accepts a request by the routes' [`AuthMode`](supabase_ssr::api_auth::AuthMode)s,
/// as `@supabase/server`'s `withSupabase({ auth })`: the handler runs only for an
/// accepted caller, which it reads with the [`ApiCaller`](crate::ApiCaller) or
/// [`ApiUser`](crate::ApiUser) extractors. A refused request gets an [`ApiError`]
/// (`401 invalid_token`, `401 missing_credentials`, `401 invalid_api_key`,
/// `503 auth_unavailable`, `500 server_misconfigured`).
///
/// ```no_run
/// use axum::{Json, Router, routing::get};
/// use supabase_ssr::api_auth::AuthMode;
/// use supabase_ssr_axum::{ApiAuthLayer, ApiCaller, ApiUser};
///
/// # fn app(auth: supabase_ssr::SupabaseAuth) -> Router {
/// async fn me(ApiUser(user): ApiUser) -> Json<serde_json::Value> {
///     Json(serde_json::json!({ "id": user.id() }))
/// }
/// async fn feed(ApiCaller(caller): ApiCaller) -> String {
///     format!("hello, {}", caller.mode())
/// }
///
/// Router::new()
///     .route("/me", get(me))
///     .route_layer(ApiAuthLayer::new(auth.clone(), [AuthMode::User]))
///     .merge(
///         Router::new()
///             .route("/feed", get(feed))
///             // A signed-in user or anybody; a bad token is still a 401.
///             .route_layer(ApiAuthLayer::new(auth, [AuthMode::User, AuthMode::None])),
///     )
/// # }
/// ```
///
/// For [`AuthMode::Session`](supabase_ssr::api_auth::AuthMode::Session) (the cookie
/// session), put a [`SupabaseLayer`](crate::SupabaseLayer) around it: this layer reads
/// the cookie client the proxy left in the request. Put a `CorsLayer` around both, so
/// preflights are answered before auth and errors carry CORS headers too.
#[derive(Clone)]
pub struct ApiAuthLayer {
    auth: SupabaseAuth,
    modes: AuthModes,
}

impl ApiAuthLayer {
    /// A layer accepting callers by `modes` (tried in the fixed order of
    /// [`AuthMode`](supabase_ssr::api_auth::AuthMode), whatever order they are given in).
    pub fn new(auth: SupabaseAuth, modes: impl Into<AuthModes>) -> Self {
        Self {
            auth,
            modes: modes.into(),
        }
    }

    /// The modes, in the order they are tried.
    pub fn modes(&self) -> &AuthModes {
        &self.modes
    }
}

impl fmt::Debug for ApiAuthLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiAuthLayer")
            .field("auth", &self.auth)
            .field("modes", &self.modes)
            .finish()
    }
}

impl<S> Layer<S> for ApiAuthLayer {
    type Service = ApiAuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ApiAuthService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`ApiAuthLayer`] wraps around an inner service.
#[derive(Clone)]
pub struct ApiAuthService<S> {
    inner: S,
    layer: ApiAuthLayer,
}

impl<S: fmt::Debug> fmt::Debug for ApiAuthService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiAuthService")
            .field("inner", &self.inner)
            .field("layer", &self.layer)
            .finish()
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, ReqBody> Service<Request<ReqBody>> for ApiAuthService<S>
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
        // Keep the service that was driven to readiness for this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            // The proxy's client, borrowed from the request like its headers.
            let cookie_client = Supabase::from_extensions(req.extensions()).map(Supabase::client);
            let accepted = layer
                .auth
                .authenticate(
                    &Credentials::from_headers(req.headers()),
                    &layer.modes,
                    cookie_client,
                )
                .await;
            match accepted {
                Ok(caller) => {
                    req.extensions_mut().insert(caller);
                    inner.call(req).await
                }
                Err(error) => {
                    tracing::debug!(
                        code = error.code(),
                        status = error.status(),
                        "supabase-ssr-axum: API request refused"
                    );
                    Ok(ApiError::from(error).into_response())
                }
            }
        })
    }
}
