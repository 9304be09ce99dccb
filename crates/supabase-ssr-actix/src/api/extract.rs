//! Extractors over what [`ApiAuth`](crate::ApiAuth) accepted.

use std::future::{Ready, ready};

use actix_web::dev::{Extensions, Payload};
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use supabase_ssr::api_auth::{Caller, VerifiedUser};

use super::ApiError;

fn missing_middleware(extractor: &str) -> ApiError {
    tracing::error!(
        "supabase-ssr-actix: the `{extractor}` extractor ran on a route without ApiAuth"
    );
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_misconfigured",
        "this route has no ApiAuth",
    )
}

/// Who the route's [`ApiAuth`](crate::ApiAuth) accepted: a user, an API key, or nobody.
/// Rejects with a `500` only when the route is not wrapped in `ApiAuth`.
///
/// ```
/// use supabase_ssr::api_auth::Caller;
/// use supabase_ssr_actix::ApiCaller;
///
/// async fn hello(ApiCaller(caller): ApiCaller) -> String {
///     match caller {
///         Caller::User(user) => format!("hello {}", user.id()),
///         Caller::Secret { key_name } => format!("hello server ({key_name})"),
///         _ => "hello".to_owned(),
///     }
/// }
/// ```
#[derive(Debug, Clone)]
pub struct ApiCaller(pub Caller);

impl ApiCaller {
    /// The caller the middleware put in these request extensions (`req.extensions()`),
    /// for code that is not an extractor.
    pub fn from_extensions(extensions: &Extensions) -> Option<&Caller> {
        extensions.get::<Caller>()
    }
}

impl FromRequest for ApiCaller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            Self::from_extensions(&req.extensions())
                .cloned()
                .map(Self)
                .ok_or_else(|| missing_middleware("ApiCaller")),
        )
    }
}

/// The verified user an [`ApiAuth`](crate::ApiAuth) accepted (by bearer token or cookie
/// session). Rejects with `401 missing_credentials` when the caller is not a user (an
/// API key, or nobody, on a route that allows those), and with a `500` when the route is
/// not wrapped in `ApiAuth`. `Option<ApiUser>` gives `None` instead.
#[derive(Debug, Clone)]
pub struct ApiUser(pub VerifiedUser);

impl FromRequest for ApiUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.extensions().get::<Caller>() {
            Some(Caller::User(user)) => Ok(Self(user.clone())),
            Some(_) => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing_credentials",
                "a signed-in user is required",
            )),
            None => Err(missing_middleware("ApiUser")),
        })
    }
}
