//! [`ApiError`]: the JSON error answer of an API route, `{"code": ..., "message": ...}`.

use std::borrow::Cow;
use std::fmt;

use axum_core::response::{IntoResponse, Response};
use http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};
use serde::ser::{Serialize, Serializer};
use supabase_ssr::api_auth::{ApiAuthError, JsonError};

/// An API error answer: a status and the JSON body `{"code": ..., "message": ...}`,
/// the shape `@supabase/server` answers with (its codes are upper case; ours are the
/// snake case of Supabase Auth's `error_code`s). The core's [`JsonError`] as an axum
/// response.
///
/// [`ApiAuthLayer`](crate::ApiAuthLayer) answers with it; handlers can too, so that
/// every error of an API has one shape:
///
/// ```
/// use axum::http::StatusCode;
/// use supabase_ssr_axum::ApiError;
///
/// let error = ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", "`body` must be a non-empty string");
/// assert_eq!(serde_json::to_string(&error).unwrap(),
///     r#"{"code":"invalid_body","message":"`body` must be a non-empty string"}"#);
/// ```
///
/// A `401` also carries `WWW-Authenticate: Bearer` (with `error="invalid_token"` for a
/// rejected token, as RFC 6750 asks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError(JsonError);

impl ApiError {
    /// An error answer. `message` goes to the client: never put a token, a key or a
    /// database error's text in it.
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self(JsonError::new(status.as_u16(), code, message))
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The code.
    pub fn code(&self) -> &str {
        self.0.code()
    }

    /// The message.
    pub fn message(&self) -> &str {
        self.0.message()
    }
}

impl From<ApiAuthError> for ApiError {
    fn from(error: ApiAuthError) -> Self {
        Self(error.into())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for ApiError {}

impl Serialize for ApiError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status(),
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            self.0.to_json(),
        )
            .into_response();
        if let Some(challenge) = self.0.www_authenticate() {
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        response
    }
}
