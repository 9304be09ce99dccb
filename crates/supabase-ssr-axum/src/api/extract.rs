//! Extractors over what [`ApiAuthLayer`](crate::ApiAuthLayer) accepted.

use std::convert::Infallible;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use http::StatusCode;
use http::request::Parts;
use supabase_ssr::api_auth::{Caller, VerifiedUser};

use super::ApiError;

fn missing_layer(extractor: &str) -> ApiError {
    tracing::error!(
        "supabase-ssr-axum: the `{extractor}` extractor ran on a route without ApiAuthLayer"
    );
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_misconfigured",
        "this route has no ApiAuthLayer",
    )
}

/// Who the route's [`ApiAuthLayer`](crate::ApiAuthLayer) accepted: a user, an API key,
/// or nobody. Rejects with a `500` only when the route has no `ApiAuthLayer`.
///
/// ```
/// use supabase_ssr::api_auth::Caller;
/// use supabase_ssr_axum::ApiCaller;
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
    /// The caller the layer put in these request extensions, for code that is not an
    /// extractor (a tower middleware below the layer).
    pub fn from_extensions(extensions: &http::Extensions) -> Option<&Caller> {
        extensions.get::<Caller>()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Self::from_extensions(&parts.extensions)
            .cloned()
            .map(Self)
            .ok_or_else(|| missing_layer("ApiCaller"))
    }
}

/// The verified user an [`ApiAuthLayer`](crate::ApiAuthLayer) accepted (by bearer token
/// or cookie session). Rejects with `401 missing_credentials` when the caller is not a
/// user (an API key, or nobody, on a route that allows those), and with a `500` when
/// the route has no `ApiAuthLayer`. `Option<ApiUser>` gives `None` instead of a 401.
#[derive(Debug, Clone)]
pub struct ApiUser(pub VerifiedUser);

impl<S: Send + Sync> FromRequestParts<S> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        match parts.extensions.get::<Caller>() {
            Some(Caller::User(user)) => Ok(Self(user.clone())),
            Some(_) => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing_credentials",
                "a signed-in user is required",
            )),
            None => Err(missing_layer("ApiUser")),
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for ApiUser {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Infallible> {
        Ok(parts
            .extensions
            .get::<Caller>()
            .and_then(Caller::user)
            .map(|user| Self(user.clone())))
    }
}
