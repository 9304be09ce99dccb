//! [`ApiError`]: the JSON error answer of an API route, `{"code": ..., "message": ...}`.

use std::borrow::Cow;
use std::fmt;

use axum_core::response::{IntoResponse, Response};
use http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};
use serde::ser::{Serialize, SerializeStruct, Serializer};
use supabase_ssr::api_auth::{ApiAuthError, www_authenticate};

/// An API error answer: a status and the JSON body `{"code": ..., "message": ...}`,
/// the shape `@supabase/server` answers with (its codes are upper case; ours are the
/// snake case of Supabase Auth's `error_code`s).
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
pub struct ApiError {
    status: StatusCode,
    code: Cow<'static, str>,
    message: Cow<'static, str>,
}

impl ApiError {
    /// An error answer. `message` goes to the client: never put a token, a key or a
    /// database error's text in it.
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The code.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<ApiAuthError> for ApiError {
    fn from(error: ApiAuthError) -> Self {
        Self {
            status: StatusCode::from_u16(error.status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code: Cow::Borrowed(error.code()),
            message: Cow::Owned(error.message().to_owned()),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

impl Serialize for ApiError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut body = serializer.serialize_struct("ApiError", 2)?;
        body.serialize_field("code", &self.code)?;
        body.serialize_field("message", &self.message)?;
        body.end()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // Two strings into a JSON object cannot fail to serialize.
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (
            self.status,
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            body,
        )
            .into_response();
        if let Some(challenge) = www_authenticate(self.status.as_u16(), &self.code) {
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        response
    }
}
