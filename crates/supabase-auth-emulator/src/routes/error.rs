//! GoTrue's HTTP error, rendered in the shape the request's API version asks for.

use crate::store::DbError;
use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::EmulatorError;

/// An error answer. The body shape is chosen later by the API-version middleware.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: Cow<'static, str>,
    pub(crate) msg: String,
    /// `weak_password.reasons`, for 422 `weak_password`.
    pub(crate) weak_password: Option<Vec<&'static str>>,
    /// OAuth-style `{"error","error_description"}` (always 400, version-independent).
    pub(crate) oauth: bool,
}

/// Shorthand for handler results.
pub(crate) type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub(crate) fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        msg: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            msg: msg.into(),
            weak_password: None,
            oauth: false,
        }
    }

    pub(crate) fn bad_request(code: &'static str, msg: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, msg)
    }

    pub(crate) fn validation(msg: impl Into<String>) -> Self {
        Self::bad_request("validation_failed", msg)
    }

    pub(crate) fn unprocessable(code: &'static str, msg: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, msg)
    }

    pub(crate) fn forbidden(code: &'static str, msg: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, msg)
    }

    pub(crate) fn not_found(code: &'static str, msg: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, msg)
    }

    pub(crate) fn unauthorized(code: &'static str, msg: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, msg)
    }

    pub(crate) fn internal() -> Self {
        Self::server_error("Unexpected failure, please check server logs for more information")
    }

    /// A 500 with GoTrue's own message (`NewInternalServerError`).
    pub(crate) fn server_error(msg: &str) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "unexpected_failure", msg)
    }

    /// GoTrue's 500 for a database error at a named step ("Database error saving new
    /// user"): with PostgreSQL it is what an application's failing trigger on
    /// `auth.users` produces. The cause is logged, not sent.
    pub(crate) fn database(message: &'static str) -> impl FnOnce(DbError) -> Self {
        move |e| {
            tracing::error!(error = %e, "{message}");
            Self::server_error(message)
        }
    }

    pub(crate) fn weak_password(msg: &str, reasons: &[&'static str]) -> Self {
        let mut e = Self::unprocessable("weak_password", msg);
        e.weak_password = Some(reasons.to_vec());
        e
    }

    pub(crate) fn no_authorization() -> Self {
        Self::unauthorized(
            "no_authorization",
            "This endpoint requires a valid Bearer token",
        )
    }

    /// Body in the initial (pre-2024) shape.
    pub(crate) fn initial_body(&self) -> Value {
        if self.oauth {
            return json!({ "error": self.code, "error_description": self.msg });
        }
        let mut m = Map::new();
        m.insert("code".into(), json!(self.status.as_u16()));
        m.insert("error_code".into(), json!(self.code));
        m.insert("msg".into(), json!(self.msg));
        if self.status.is_server_error() {
            m.insert("error_id".into(), json!(crate::util::new_uuid()));
        }
        if let Some(w) = &self.weak_password {
            m.insert("weak_password".into(), json!({ "reasons": w }));
        }
        Value::Object(m)
    }

    /// Body in the `2024-01-01` shape.
    pub(crate) fn v2024_body(&self) -> Value {
        if self.oauth {
            return self.initial_body();
        }
        let mut m = Map::new();
        m.insert("code".into(), json!(self.code));
        m.insert("message".into(), json!(self.msg));
        if let Some(w) = &self.weak_password {
            m.insert("weak_password".into(), json!({ "reasons": w }));
        }
        Value::Object(m)
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        tracing::error!(error = %e, "database error");
        Self::internal()
    }
}

impl From<EmulatorError> for ApiError {
    fn from(e: EmulatorError) -> Self {
        tracing::error!(error = %e, "emulator error");
        Self::internal()
    }
}

impl From<jsonwebtoken::errors::Error> for ApiError {
    fn from(e: jsonwebtoken::errors::Error) -> Self {
        tracing::error!(error = %e, "signing error");
        Self::internal()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.initial_body();
        let mut res = (self.status, axum::Json(body)).into_response();
        if !self.oauth
            && let Ok(v) = HeaderValue::from_str(&self.code)
        {
            res.headers_mut().insert("x-sb-error-code", v);
        }
        res.extensions_mut().insert(self);
        res
    }
}
