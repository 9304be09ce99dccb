//! [`ApiAuthError`]: why a request was refused, as a status and a documented code.

use std::borrow::Cow;
use std::fmt;

use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::AuthError;

/// What an [`ApiAuthError`] is about. Each kind has one status and one code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiAuthErrorKind {
    /// `401 missing_credentials`: none of the allowed modes found its credential.
    MissingCredentials,
    /// `401 invalid_token`: a bearer token was present and failed verification
    /// (malformed, `alg: none`, expired, wrong signature, issuer or audience, no `sub`),
    /// or the `Authorization` header could not be read. Never downgraded to a weaker
    /// mode.
    InvalidToken,
    /// `401 invalid_api_key`: an `apikey` was sent, matched none of the allowed keys,
    /// and no other mode applied.
    InvalidApiKey,
    /// `503 auth_unavailable`: the signing keys or the Auth server could not be reached,
    /// so the credential was not judged. Retry later.
    AuthUnavailable,
    /// `500 server_misconfigured`: an allowed mode names a key that is not configured,
    /// or the `session` mode has no cookie client.
    Misconfigured,
}

impl ApiAuthErrorKind {
    /// The HTTP status.
    pub fn status(self) -> u16 {
        match self {
            Self::MissingCredentials | Self::InvalidToken | Self::InvalidApiKey => 401,
            Self::AuthUnavailable => 503,
            Self::Misconfigured => 500,
        }
    }

    /// The machine-readable code of the JSON body.
    pub fn code(self) -> &'static str {
        match self {
            Self::MissingCredentials => "missing_credentials",
            Self::InvalidToken => "invalid_token",
            Self::InvalidApiKey => "invalid_api_key",
            Self::AuthUnavailable => "auth_unavailable",
            Self::Misconfigured => "server_misconfigured",
        }
    }
}

/// An API error answer, framework-neutral: a status and the JSON body
/// `{"code": ..., "message": ...}`, the shape `@supabase/server` answers with (its codes
/// are upper case; ours are the snake case of Supabase Auth's `error_code`s).
///
/// For adapter authors: each adapter wraps it in its own error type (`ApiError` in the
/// axum and actix-web crates) that turns it into the framework's response, with
/// [`Self::to_json`] as the body and [`Self::www_authenticate`] as the header.
///
/// ```
/// use supabase_ssr::api_auth::JsonError;
///
/// let error = JsonError::new(401, "invalid_token", "the bearer token was rejected");
/// assert_eq!(error.to_json(), br#"{"code":"invalid_token","message":"the bearer token was rejected"}"#);
/// assert_eq!(error.www_authenticate(), Some(r#"Bearer error="invalid_token""#));
/// assert_eq!(JsonError::new(401, "missing_credentials", "").www_authenticate(), Some("Bearer"));
/// assert_eq!(JsonError::new(503, "auth_unavailable", "").www_authenticate(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    status: u16,
    code: Cow<'static, str>,
    message: Cow<'static, str>,
}

impl JsonError {
    /// An error answer. `message` goes to the client: never put a token, a key or a
    /// database error's text in it.
    pub fn new(
        status: u16,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
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

    /// The body, `{"code": ..., "message": ...}`.
    pub fn to_json(&self) -> Vec<u8> {
        // Two strings into a JSON object cannot fail to serialize.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The `WWW-Authenticate` challenge to send with it, as RFC 6750 asks:
    /// `Bearer error="invalid_token"` for a rejected token, `Bearer` for any other `401`,
    /// none otherwise.
    pub fn www_authenticate(&self) -> Option<&'static str> {
        match self.status {
            401 if self.code == ApiAuthErrorKind::InvalidToken.code() => {
                Some(r#"Bearer error="invalid_token""#)
            }
            401 => Some("Bearer"),
            _ => None,
        }
    }
}

impl From<ApiAuthError> for JsonError {
    fn from(error: ApiAuthError) -> Self {
        Self {
            status: error.status(),
            code: Cow::Borrowed(error.code()),
            message: Cow::Owned(error.message().to_owned()),
        }
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for JsonError {}

impl Serialize for JsonError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut body = serializer.serialize_struct("JsonError", 2)?;
        body.serialize_field("code", &self.code)?;
        body.serialize_field("message", &self.message)?;
        body.end()
    }
}

/// Why a request was refused by its endpoint's auth modes.
///
/// Answer it as `status()` with the JSON body `{"code": ..., "message": ...}` (its
/// `Serialize` form). Neither the message nor `Debug` ever holds a token or a key.
/// [`source`](std::error::Error::source) gives the verification error when there is one.
#[derive(Debug, Clone)]
pub struct ApiAuthError {
    kind: ApiAuthErrorKind,
    message: String,
    source: Option<AuthError>,
}

impl ApiAuthError {
    pub(crate) fn new(kind: ApiAuthErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// A bearer token or cookie session that failed: transient failures say nothing
    /// about the credential.
    pub(crate) fn from_verification(error: AuthError, what: &str) -> Self {
        let (kind, message) = if error.is_transient() {
            (
                ApiAuthErrorKind::AuthUnavailable,
                format!("the {what} could not be checked now: {error}"),
            )
        } else {
            (
                ApiAuthErrorKind::InvalidToken,
                format!("the {what} was rejected: {error}"),
            )
        };
        Self {
            kind,
            message,
            source: Some(error),
        }
    }

    /// What the error is about.
    pub fn kind(&self) -> ApiAuthErrorKind {
        self.kind
    }

    /// The HTTP status to answer with.
    pub fn status(&self) -> u16 {
        self.kind.status()
    }

    /// The code of the JSON body.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// A one-line explanation for the client.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether trying again later may succeed ([`ApiAuthErrorKind::AuthUnavailable`]).
    pub fn is_transient(&self) -> bool {
        self.kind == ApiAuthErrorKind::AuthUnavailable
    }
}

impl fmt::Display for ApiAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message)
    }
}

impl std::error::Error for ApiAuthError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

impl Serialize for ApiAuthError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut body = serializer.serialize_struct("ApiAuthError", 2)?;
        body.serialize_field("code", self.code())?;
        body.serialize_field("message", &self.message)?;
        body.end()
    }
}
