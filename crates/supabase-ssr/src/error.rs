//! The crate error type.
//!
//! [`AuthError`] is opaque (a boxed private kind behind predicates), so the kinds can
//! grow without breaking callers, and so nothing secret can leak through it: it never
//! holds a token, password, API key, request body or request URL.

use std::error::Error as StdError;
use std::fmt;

/// HTTP statuses auth-js treats as infrastructure failures worth retrying
/// (`NETWORK_ERROR_CODES` in `lib/fetch.ts`): 500-504 and Cloudflare's 520-530.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 500..=504 | 520..=530)
}

/// Longest server message kept, in characters; keeps `Display` one readable line.
const MAX_MESSAGE_CHARS: usize = 300;

/// An error from Supabase Auth or from this crate.
///
/// Ask it what happened through the predicates rather than matching on text:
///
/// - [`is_transient`](Self::is_transient): the Auth server could not be reached or was
///   overloaded (network, timeout, 5xx, 429). A session must never be dropped for this.
/// - [`is_session_missing`](Self::is_session_missing): there is no session, or the server
///   no longer knows it (`session_not_found`).
/// - [`code`](Self::code): the server's error code, such as `refresh_token_already_used`.
///
/// Neither `Display` nor `Debug` ever shows a token, password, API key, request body or
/// request URL. It is cheap to clone, so one failure can be handed to every caller
/// waiting on the same refresh.
#[derive(Clone)]
pub struct AuthError {
    inner: Box<Inner>,
}

#[derive(Debug, Clone)]
struct Inner {
    kind: Kind,
    /// One line, already sanitized.
    message: String,
}

/// What went wrong, for code inside the crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The Auth server answered with an error status.
    Api {
        status: u16,
        code: Option<String>,
        /// `weak_password.reasons`, when the server rejected a password as weak.
        weak_password_reasons: Option<Vec<String>>,
    },
    /// The connection failed, was reset, or the body could not be read.
    Network,
    /// A request timeout or the refresh retry budget ran out.
    Timeout,
    /// No session, or the server answered `session_not_found` (with its status).
    SessionMissing { status: Option<u16> },
    /// A PKCE exchange was asked for without a stored code verifier.
    PkceVerifierMissing,
    /// An access token failed verification.
    InvalidJwt,
    /// The JWKS could not be obtained: an availability problem, never a verdict on a token.
    JwksUnavailable,
    /// A 2xx answer without what auth-js requires of it. `unreadable` when the body was
    /// not JSON at all, which auth-js treats like a network failure.
    InvalidResponse { unreadable: bool },
    /// A bad argument from the caller.
    InvalidInput,
}

impl AuthError {
    fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                message: one_line(&message.into()),
            }),
        }
    }

    /// An error answer from the Auth server (already classified; see `api::response`).
    pub(crate) fn api(status: u16, code: Option<String>, message: impl Into<String>) -> Self {
        Self::new(
            Kind::Api {
                status,
                code,
                weak_password_reasons: None,
            },
            message,
        )
    }

    /// A 422-style `weak_password` answer, keeping the server's reasons.
    pub(crate) fn weak_password(
        status: u16,
        message: impl Into<String>,
        reasons: Vec<String>,
    ) -> Self {
        Self::new(
            Kind::Api {
                status,
                code: Some("weak_password".to_owned()),
                weak_password_reasons: Some(reasons),
            },
            message,
        )
    }

    /// The connection failed, was reset, or the body could not be read. `description`
    /// must not hold secrets; [`AuthError::from_reqwest`] builds a safe one.
    pub(crate) fn network(description: impl Into<String>) -> Self {
        Self::new(Kind::Network, description)
    }

    /// A request timeout or the retry budget ran out.
    pub(crate) fn timeout(description: impl Into<String>) -> Self {
        Self::new(Kind::Timeout, description)
    }

    /// There is no session to use.
    pub(crate) fn session_missing() -> Self {
        Self::new(
            Kind::SessionMissing { status: None },
            "auth session missing",
        )
    }

    /// The server answered `session_not_found`: the session was signed out or deleted.
    pub(crate) fn session_not_found(status: u16, message: impl Into<String>) -> Self {
        Self::new(
            Kind::SessionMissing {
                status: Some(status),
            },
            message,
        )
    }
    /// No PKCE code verifier was stored for this flow.
    pub(crate) fn pkce_verifier_missing() -> Self {
        Self::new(
            Kind::PkceVerifierMissing,
            "PKCE code verifier not found in storage; the sign-in must start and finish \
             with cookies shared by the same site",
        )
    }
    /// A local verification failure: an invalid token, or keys that cannot be fetched.
    pub(crate) fn from_jwt(error: crate::jwt::JwtError) -> Self {
        match error {
            crate::jwt::JwtError::JwksUnavailable => Self::jwks_unavailable(error.to_string()),
            other => Self::invalid_jwt(other.to_string()),
        }
    }

    /// An access token failed verification. `reason` must not contain the token.
    pub(crate) fn invalid_jwt(reason: impl Into<String>) -> Self {
        Self::new(Kind::InvalidJwt, reason)
    }
    /// The JWKS could not be obtained; `cause` is the fetch error, if there was one.
    pub(crate) fn jwks_unavailable(reason: impl Into<String>) -> Self {
        Self::new(Kind::JwksUnavailable, reason)
    }

    /// A 2xx answer that lacks what auth-js requires (e.g. no session or user).
    pub(crate) fn invalid_response(reason: impl Into<String>) -> Self {
        Self::new(Kind::InvalidResponse { unreadable: false }, reason)
    }

    /// A 2xx answer whose body is not JSON. auth-js surfaces this as a retryable fetch
    /// error, so it is retryable here too.
    pub(crate) fn unreadable_response(reason: impl Into<String>) -> Self {
        Self::new(Kind::InvalidResponse { unreadable: true }, reason)
    }

    /// A bad argument from the caller.
    pub(crate) fn invalid_input(reason: impl Into<String>) -> Self {
        Self::new(Kind::InvalidInput, reason)
    }

    /// Converts a transport error, keeping only a description without the URL (a
    /// `redirect_to` in it may carry tokens).
    pub(crate) fn from_reqwest(err: reqwest::Error) -> Self {
        let timed_out = err.is_timeout();
        let description = describe_transport_error(err.without_url());
        if timed_out {
            Self::timeout(format!("auth request timed out ({description})"))
        } else {
            Self::network(description)
        }
    }

    /// The HTTP status, when there is one.
    ///
    /// For an answer from the Auth server this is its status. A missing session or PKCE
    /// verifier raised locally reports 400, as auth-js does. Network failures, timeouts
    /// and other local errors have none.
    pub fn status(&self) -> Option<u16> {
        match &self.inner.kind {
            Kind::Api { status, .. } => Some(*status),
            Kind::SessionMissing { status } => Some(status.unwrap_or(400)),
            Kind::PkceVerifierMissing => Some(400),
            _ => None,
        }
    }

    /// The Auth server's error code (such as `refresh_token_already_used`), or the code
    /// auth-js gives the same condition (`pkce_code_verifier_not_found`).
    ///
    /// auth-js reads it from `code` when the response says API version 2024-01-01 or
    /// later, otherwise from `error_code`; so does this crate.
    pub fn code(&self) -> Option<&str> {
        match &self.inner.kind {
            Kind::Api { code, .. } => code.as_deref(),
            Kind::SessionMissing { status: Some(_) } => Some("session_not_found"),
            Kind::PkceVerifierMissing => Some("pkce_code_verifier_not_found"),
            _ => None,
        }
    }

    /// A one-line description: the server's message for server errors.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The reasons given with a `weak_password` error (`length`, `characters`, `pwned`).
    pub fn weak_password_reasons(&self) -> Option<&[String]> {
        match &self.inner.kind {
            Kind::Api {
                weak_password_reasons: Some(reasons),
                ..
            } => Some(reasons),
            _ => None,
        }
    }

    /// Whether trying again later may succeed: a network failure, a timeout, HTTP
    /// 500-504 or 520-530 (exactly auth-js's list), or a 2xx body that is not JSON.
    /// 429 is not retryable (see [`is_transient`](Self::is_transient)).
    pub fn is_retryable(&self) -> bool {
        match &self.inner.kind {
            Kind::Network | Kind::Timeout => true,
            Kind::Api { status, .. } => is_retryable_status(*status),
            Kind::InvalidResponse { unreadable } => *unreadable,
            // Keys that cannot be fetched say nothing about the token or the session.
            Kind::JwksUnavailable => true,
            _ => false,
        }
    }

    /// Whether the failure says nothing about the session itself: it is retryable, or the
    /// server answered 429 (rate limited). A session must never be removed for this.
    pub fn is_transient(&self) -> bool {
        match &self.inner.kind {
            Kind::Api { status: 429, .. } => true,
            _ => self.is_retryable(),
        }
    }

    /// Whether there is no session, or the server no longer knows it
    /// (`session_not_found`).
    pub fn is_session_missing(&self) -> bool {
        matches!(self.inner.kind, Kind::SessionMissing { .. })
    }

    /// Whether an access token was rejected: locally, or by the server (`bad_jwt`).
    pub fn is_invalid_jwt(&self) -> bool {
        match &self.inner.kind {
            Kind::InvalidJwt => true,
            Kind::Api { code, .. } => code.as_deref() == Some("bad_jwt"),
            _ => false,
        }
    }

    /// Whether a request timeout or the refresh retry budget ran out.
    pub fn is_timeout(&self) -> bool {
        matches!(self.inner.kind, Kind::Timeout)
    }

    /// Whether the Auth server could not be reached, or the connection broke before a
    /// complete answer arrived.
    pub fn is_network(&self) -> bool {
        matches!(self.inner.kind, Kind::Network)
    }

    /// Whether the PKCE code verifier for a code exchange was not found.
    pub fn is_pkce_verifier_missing(&self) -> bool {
        matches!(self.inner.kind, Kind::PkceVerifierMissing)
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = match &self.inner.kind {
            Kind::Api { .. } => "auth server error",
            Kind::Network => "network error talking to the auth server",
            Kind::Timeout => "timed out talking to the auth server",
            Kind::SessionMissing { .. } => "auth session missing",
            Kind::PkceVerifierMissing => "PKCE code verifier missing",
            Kind::InvalidJwt => "invalid JWT",
            Kind::JwksUnavailable => "JWKS unavailable",
            Kind::InvalidResponse { .. } => "invalid response from the auth server",
            Kind::InvalidInput => "invalid input",
        };
        f.write_str(prefix)?;
        match (self.status(), self.code()) {
            (Some(status), Some(code)) => write!(f, " (HTTP {status}, code {code})")?,
            (Some(status), None) => write!(f, " (HTTP {status})")?,
            (None, Some(code)) => write!(f, " (code {code})")?,
            (None, None) => {}
        }
        if !self.inner.message.is_empty() && self.inner.message != prefix {
            write!(f, ": {}", self.inner.message)?;
        }
        Ok(())
    }
}

impl fmt::Debug for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Everything stored is already free of secrets, so the derived shape is safe.
        f.debug_struct("AuthError")
            .field("kind", &self.inner.kind)
            .field("message", &self.inner.message)
            .finish()
    }
}

impl StdError for AuthError {}

/// reqwest's message plus its source chain (`error sending request: client error
/// (Connect): tcp connect error: Connection refused`), with any URL query cut off.
fn describe_transport_error(err: reqwest::Error) -> String {
    let kind = if err.is_connect() {
        "connection failed"
    } else if err.is_body() || err.is_decode() {
        "response body error"
    } else if err.is_redirect() {
        "redirect error"
    } else if err.is_builder() {
        "request could not be built"
    } else {
        "request failed"
    };
    let mut parts = vec![kind.to_owned(), err.to_string()];
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    strip_url_queries(&parts.join(": "))
}

/// Cuts the query and fragment off anything that looks like a URL: a `redirect_to` or
/// `code` there is as sensitive as a token.
fn strip_url_queries(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        match word.find("://").and_then(|_| word.find(['?', '#'])) {
            Some(cut) => {
                out.push_str(&word[..cut]);
                out.push_str("?…");
            }
            None => out.push_str(word),
        }
    }
    out
}

/// Control characters become spaces and long text is cut, so a message from the network
/// cannot forge log lines or flood them.
fn one_line(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(MAX_MESSAGE_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().count() > MAX_MESSAGE_CHARS {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_send_sync_static() {
        fn check<T: Send + Sync + 'static>() {}
        check::<AuthError>();
    }

    #[test]
    fn retryable_statuses_are_exactly_auth_js_list() {
        let retryable: Vec<u16> = (100..600).filter(|s| is_retryable_status(*s)).collect();
        let expected: Vec<u16> = (500..=504).chain(520..=530).collect();
        assert_eq!(retryable, expected);
    }

    #[test]
    fn display_includes_status_code_and_message() {
        let err = AuthError::api(
            400,
            Some("refresh_token_already_used".into()),
            "Invalid Refresh Token: Already Used",
        );
        assert_eq!(
            err.to_string(),
            "auth server error (HTTP 400, code refresh_token_already_used): \
             Invalid Refresh Token: Already Used"
        );
        assert_eq!(
            AuthError::session_missing().to_string(),
            "auth session missing (HTTP 400)"
        );
        assert_eq!(
            AuthError::pkce_verifier_missing().code(),
            Some("pkce_code_verifier_not_found")
        );
    }

    #[test]
    fn transient_covers_429_but_retryable_does_not() {
        let err = AuthError::api(
            429,
            Some("over_request_rate_limit".into()),
            "Request rate limit reached",
        );
        assert!(!err.is_retryable());
        assert!(err.is_transient());
        let err = AuthError::api(400, Some("refresh_token_not_found".into()), "x");
        assert!(!err.is_transient());
    }

    #[test]
    fn jwks_unavailability_is_transient() {
        let err = AuthError::jwks_unavailable("JWKS fetch failed: status 503");
        assert!(err.is_retryable() && err.is_transient());
        assert!(!err.is_timeout() && !err.is_invalid_jwt() && !err.is_session_missing());
        assert_eq!(
            err.to_string(),
            "JWKS unavailable: JWKS fetch failed: status 503"
        );
    }

    #[test]
    fn messages_are_one_line_and_bounded() {
        let err = AuthError::api(400, None, "line one\nline two");
        assert_eq!(err.message(), "line one line two");
        let long = "x".repeat(1000);
        let err = AuthError::api(400, None, long);
        assert_eq!(err.message().chars().count(), MAX_MESSAGE_CHARS + 1);
    }

    #[test]
    fn url_queries_are_stripped() {
        assert_eq!(
            strip_url_queries("error for http://h/a?redirect_to=x#access_token=y end"),
            "error for http://h/a?… end"
        );
        assert_eq!(strip_url_queries("no url? here"), "no url? here");
    }
}
