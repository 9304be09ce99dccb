//! [`ApiAuth`]: an endpoint's auth modes, as actix-web middleware.

use std::fmt;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::AUTHORIZATION;
use actix_web::http::header::HeaderValue;
use actix_web::{Error, HttpMessage, ResponseError};
use supabase_ssr::SupabaseAuth;
use supabase_ssr::api_auth::{AuthModes, Credentials};

use super::ApiError;
use crate::Supabase;

/// Accepts a request by the route's [`AuthMode`](supabase_ssr::api_auth::AuthMode)s, as
/// `@supabase/server`'s `withSupabase({ auth })`: the handler runs only for an accepted
/// caller, which it reads with the [`ApiCaller`](crate::ApiCaller) or
/// [`ApiUser`](crate::ApiUser) extractors. A refused request gets an [`ApiError`]
/// (`401 invalid_token`, `401 missing_credentials`, `401 invalid_api_key`,
/// `503 auth_unavailable`, `500 server_misconfigured`).
///
/// ```no_run
/// use actix_web::{App, web};
/// use supabase_ssr::api_auth::AuthMode;
/// use supabase_ssr_actix::{ApiAuth, ApiCaller, ApiUser};
///
/// async fn me(ApiUser(user): ApiUser) -> web::Json<serde_json::Value> {
///     web::Json(serde_json::json!({ "id": user.id() }))
/// }
/// async fn feed(ApiCaller(caller): ApiCaller) -> String {
///     format!("hello, {}", caller.mode())
/// }
///
/// # fn app(auth: supabase_ssr::SupabaseAuth) {
/// App::new()
///     .service(
///         web::resource("/me")
///             .wrap(ApiAuth::new(auth.clone(), [AuthMode::User]))
///             .route(web::get().to(me)),
///     )
///     .service(
///         // A signed-in user or anybody; a bad token is still a 401.
///         web::resource("/feed")
///             .wrap(ApiAuth::new(auth, [AuthMode::User, AuthMode::None]))
///             .route(web::get().to(feed)),
///     );
/// # }
/// ```
///
/// For [`AuthMode::Session`](supabase_ssr::api_auth::AuthMode::Session) (the cookie
/// session), wrap the app in a [`SupabaseMiddleware`](crate::SupabaseMiddleware) too:
/// this middleware reads the cookie client it left in the request.
#[derive(Clone)]
pub struct ApiAuth {
    auth: SupabaseAuth,
    modes: AuthModes,
}

impl ApiAuth {
    /// Middleware accepting callers by `modes` (tried in the fixed order of
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

impl fmt::Debug for ApiAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiAuth")
            .field("auth", &self.auth)
            .field("modes", &self.modes)
            .finish()
    }
}

impl<S, B> Transform<S, ServiceRequest> for ApiAuth
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = ApiAuthMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ApiAuthMiddleware {
            service: Rc::new(service),
            config: self.clone(),
        }))
    }
}

/// The service [`ApiAuth`] wraps around a route's.
pub struct ApiAuthMiddleware<S> {
    service: Rc<S>,
    config: ApiAuth,
}

impl<S> fmt::Debug for ApiAuthMiddleware<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiAuthMiddleware")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

type LocalBoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

impl<S, B> Service<ServiceRequest> for ApiAuthMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = LocalBoxFuture<Result<Self::Response, Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let config = self.config.clone();
        Box::pin(async move {
            // The proxy's client, when a SupabaseMiddleware ran on the request.
            let cookie_client = Supabase::from_extensions(&req.extensions()).cloned();
            let headers = req.headers();
            let credentials = Credentials::from_values(
                headers.get_all(AUTHORIZATION).map(HeaderValue::as_bytes),
                headers.get_all("apikey").map(HeaderValue::as_bytes),
            );
            let accepted = config
                .auth
                .authenticate(
                    &credentials,
                    &config.modes,
                    cookie_client.as_ref().map(Supabase::client),
                )
                .await;
            match accepted {
                Ok(caller) => {
                    req.extensions_mut().insert(caller);
                    let res = service.call(req).await?;
                    Ok(res.map_into_left_body())
                }
                Err(error) => {
                    tracing::debug!(
                        code = error.code(),
                        status = error.status(),
                        "supabase-ssr-actix: API request refused"
                    );
                    let response = ApiError::from(error).error_response();
                    Ok(req.into_response(response).map_into_right_body())
                }
            }
        })
    }
}
