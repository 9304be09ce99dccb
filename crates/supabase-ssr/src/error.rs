//! The crate error type.
//!
//! [`AuthError`] is opaque (a boxed private kind behind [`AuthError::kind`] and
//! predicates), so the kinds can grow without breaking callers, and so nothing secret can
//! leak through it: it never holds a token, password, API key, request body or request
//! URL.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use crate::jwt::JwtError;

/// HTTP statuses auth-js treats as infrastructure failures worth retrying
/// (`NETWORK_ERROR_CODES` in `lib/fetch.ts`): 500-504 and Cloudflare's 520-530.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 500..=504 | 520..=530)
}

/// Longest server message kept, in characters; keeps `Display` one readable line.
const MAX_MESSAGE_CHARS: usize = 300;

/// What an [`AuthError`] is about: what a caller branches on. Ask with
/// [`AuthError::kind`].
///
/// ```
/// # async fn f(client: supabase_ssr::ServerClient) {
/// use supabase_ssr::AuthErrorKind;
///
/// match client.get_claims().await {
///     Ok(Some(claims)) => println!("user {:?}", claims.sub),
///     Ok(None) => println!("signed out"),
///     Err(e) => match e.kind() {
///         AuthErrorKind::Expired => println!("expired, and could not be refreshed"),
///         AuthErrorKind::InvalidToken | AuthErrorKind::UnknownKey => println!("forged or corrupt"),
///         AuthErrorKind::AuthUnavailable | AuthErrorKind::JwksUnavailable => println!("try later"),
///         _ => println!("{e}"),
///     },
/// }
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthErrorKind {
    /// The access token has expired (its `exp` is past) and was not refreshed.
    Expired,
    /// The access token is not acceptable: malformed, `alg: none`, a signature that does
    /// not verify, an algorithm that is not its key's, another issuer or audience, a
    /// missing `exp` or `sub`, not valid yet; or the Auth server called it a bad JWT.
    /// Forged or corrupt, never a question of availability.
    InvalidToken,
    /// The access token names a signing key (`kid`) the project's JWKS does not have,
    /// even after a refetch, and the Auth server refused the token too.
    UnknownKey,
    /// The project's signing keys (JWKS) could not be fetched: the token was not judged.
    /// Transient.
    JwksUnavailable,
    /// The Auth server could not be reached or was overloaded: a network failure, a
    /// timeout, HTTP 5xx or 429, an answer that is not JSON. Transient: a session is never
    /// dropped for it.
    AuthUnavailable,
    /// The Auth server refused the request (a 4xx other than 429): wrong credentials, a
    /// refresh token already used, a weak password... [`AuthError::code`] says which.
    Rejected,
    /// There is no session, or the Auth server no longer knows it (`session_not_found`).
    SessionMissing,
    /// A PKCE code exchange found no stored code verifier.
    PkceVerifierMissing,
    /// A success answer from the Auth server without what it must hold.
    InvalidResponse,
    /// A bad argument from the caller.
    InvalidInput,
}

/// An error from Supabase Auth or from this crate.
///
/// Ask it what happened through [`kind`](Self::kind) and the predicates rather than
/// matching on text; [`source`](StdError::source) gives the underlying error when there
/// is one (the [`JwtError`] of a token that did not verify, the transport error of a
/// failed request, the Auth server's refusal behind an unknown key):
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
    /// The underlying error, free of secrets (a transport error without its URL, the
    /// Auth server's refusal).
    source: Option<Arc<dyn StdError + Send + Sync>>,
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
        /// The body was not JSON (a gateway's or a wrong path's page): auth-js makes
        /// such a 4xx an `AuthUnknownError`, not an `AuthApiError`.
        unreadable: bool,
    },
    /// The connection failed, was reset, or the body could not be read.
    Network,
    /// A request timeout or the refresh retry budget ran out.
    Timeout,
    /// No session, or the server answered `session_not_found` (with its status).
    SessionMissing { status: Option<u16> },
    /// A PKCE exchange was asked for without a stored code verifier.
    PkceVerifierMissing,
    /// An access token failed verification locally.
    InvalidJwt(JwtError),
    /// A token's `kid` is not in the JWKS and the Auth server refused the token (with
    /// this status and code).
    UnknownKey {
        status: Option<u16>,
        code: Option<String>,
    },
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
                source: None,
            }),
        }
    }

    fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.inner.source = Some(Arc::new(source));
        self
    }

    /// An error answer from the Auth server (already classified; see `api::response`).
    pub(crate) fn api(status: u16, code: Option<String>, message: impl Into<String>) -> Self {
        Self::new(
            Kind::Api {
                status,
                code,
                weak_password_reasons: None,
                unreadable: false,
            },
            message,
        )
    }

    /// An error answer whose body is not JSON.
    pub(crate) fn api_unreadable(status: u16, message: impl Into<String>) -> Self {
        Self::new(
            Kind::Api {
                status,
                code: None,
                weak_password_reasons: None,
                unreadable: true,
            },
            message,
        )
    }

    /// Whether this is an error answer whose body was not JSON (auth-js's
    /// `AuthUnknownError` for a 4xx).
    pub(crate) fn is_unreadable_answer(&self) -> bool {
        matches!(
            self.inner.kind,
            Kind::Api {
                unreadable: true,
                ..
            }
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
                unreadable: false,
            },
            message,
        )
    }

    /// The connection failed, was reset, or the body could not be read. `description`
    /// must not hold secrets; [`AuthError::from_reqwest`] builds a safe one.
    pub(crate) fn network(description: impl Into<String>) -> Self {
        Self::new(Kind::Network, description)
    }

    /// A refresh not attempted: refreshes are paused for `left_ms` more after an Auth
    /// server failure (see `outage.rs`). Transient, like the failure that caused it.
    pub(crate) fn refresh_paused(left_ms: i64) -> Self {
        Self::network(format!(
            "refreshes are paused after an Auth server failure ({left_ms} ms left)"
        ))
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
    /// The [`JwtError`] is kept as the source.
    pub(crate) fn from_jwt(error: JwtError) -> Self {
        let kind = match error {
            JwtError::JwksUnavailable => Kind::JwksUnavailable,
            other => Kind::InvalidJwt(other),
        };
        Self::new(kind, error.to_string()).with_source(error)
    }

    /// A token whose `kid` the JWKS does not have, refused by the Auth server too
    /// (`refusal`, kept as the source). A transient failure of that check is returned as
    /// it is, never as this.
    pub(crate) fn unknown_key(refusal: AuthError) -> Self {
        Self::new(
            Kind::UnknownKey {
                status: refusal.status(),
                code: refusal.code().map(str::to_owned),
            },
            "the token's signing key (kid) is not in the project's JWKS, and the Auth \
             server refused the token",
        )
        .with_source(refusal)
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
        let err = err.without_url();
        let timed_out = err.is_timeout();
        let description = describe_transport_error(&err);
        let error = if timed_out {
            Self::timeout(format!("auth request timed out ({description})"))
        } else {
            Self::network(description)
        };
        error.with_source(err)
    }

    /// What the error is about. See [`AuthErrorKind`].
    pub fn kind(&self) -> AuthErrorKind {
        match &self.inner.kind {
            Kind::InvalidJwt(JwtError::Expired) => AuthErrorKind::Expired,
            Kind::InvalidJwt(_) => AuthErrorKind::InvalidToken,
            Kind::UnknownKey { .. } => AuthErrorKind::UnknownKey,
            Kind::JwksUnavailable => AuthErrorKind::JwksUnavailable,
            Kind::SessionMissing { .. } => AuthErrorKind::SessionMissing,
            Kind::PkceVerifierMissing => AuthErrorKind::PkceVerifierMissing,
            Kind::InvalidInput => AuthErrorKind::InvalidInput,
            Kind::InvalidResponse { unreadable: false } => AuthErrorKind::InvalidResponse,
            Kind::Api { code, .. } if code.as_deref() == Some("bad_jwt") => {
                AuthErrorKind::InvalidToken
            }
            Kind::Network | Kind::Timeout | Kind::InvalidResponse { unreadable: true } => {
                AuthErrorKind::AuthUnavailable
            }
            // 5xx and 429, as `is_transient` says.
            Kind::Api { .. } if self.is_transient() => AuthErrorKind::AuthUnavailable,
            Kind::Api { .. } => AuthErrorKind::Rejected,
        }
    }

    /// Whether the access token has expired (and was not refreshed): the kind
    /// [`AuthErrorKind::Expired`].
    pub fn is_expired(&self) -> bool {
        self.kind() == AuthErrorKind::Expired
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
            Kind::UnknownKey { status, .. } => *status,
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
            Kind::Api { code, .. } | Kind::UnknownKey { code, .. } => code.as_deref(),
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

    /// Whether an access token was rejected: locally (expired, invalid, an unknown key),
    /// or by the server (`bad_jwt`).
    pub fn is_invalid_jwt(&self) -> bool {
        matches!(
            self.kind(),
            AuthErrorKind::Expired | AuthErrorKind::InvalidToken | AuthErrorKind::UnknownKey
        )
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
            Kind::InvalidJwt(_) => "invalid JWT",
            Kind::UnknownKey { .. } => "unknown signing key",
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
            .field("source", &self.inner.source)
            .finish()
    }
}

impl StdError for AuthError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|source| source as &(dyn StdError + 'static))
    }
}

/// reqwest's message plus its source chain (`error sending request: client error
/// (Connect): tcp connect error: Connection refused`), with any URL query cut off.
fn describe_transport_error(err: &reqwest::Error) -> String {
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
    let mut source = StdError::source(err);
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
    #![allow(clippy::unwrap_used)]
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
        let err = AuthError::from_jwt(JwtError::JwksUnavailable);
        assert!(err.is_retryable() && err.is_transient());
        assert!(!err.is_timeout() && !err.is_invalid_jwt() && !err.is_session_missing());
        assert_eq!(err.kind(), AuthErrorKind::JwksUnavailable);
        assert_eq!(
            err.to_string(),
            "JWKS unavailable: the signing keys (JWKS) are unavailable"
        );
    }

    #[test]
    fn each_failure_has_its_kind() {
        let api = |status, code: Option<&str>| AuthError::api(status, code.map(Into::into), "m");
        let cases: Vec<(AuthError, AuthErrorKind)> = vec![
            (
                AuthError::from_jwt(JwtError::Expired),
                AuthErrorKind::Expired,
            ),
            (
                AuthError::from_jwt(JwtError::InvalidSignature),
                AuthErrorKind::InvalidToken,
            ),
            (
                AuthError::from_jwt(JwtError::Malformed("not three dot-separated parts")),
                AuthErrorKind::InvalidToken,
            ),
            (
                AuthError::from_jwt(JwtError::AlgNone),
                AuthErrorKind::InvalidToken,
            ),
            (
                AuthError::from_jwt(JwtError::NotYetValid),
                AuthErrorKind::InvalidToken,
            ),
            (
                AuthError::unknown_key(api(403, Some("bad_jwt"))),
                AuthErrorKind::UnknownKey,
            ),
            (api(403, Some("bad_jwt")), AuthErrorKind::InvalidToken),
            (api(503, None), AuthErrorKind::AuthUnavailable),
            (api(429, None), AuthErrorKind::AuthUnavailable),
            (
                AuthError::network("connection failed"),
                AuthErrorKind::AuthUnavailable,
            ),
            (
                AuthError::timeout("timed out"),
                AuthErrorKind::AuthUnavailable,
            ),
            (
                AuthError::unreadable_response("not JSON"),
                AuthErrorKind::AuthUnavailable,
            ),
            (
                api(400, Some("invalid_credentials")),
                AuthErrorKind::Rejected,
            ),
            (
                api(400, Some("refresh_token_already_used")),
                AuthErrorKind::Rejected,
            ),
            (AuthError::session_missing(), AuthErrorKind::SessionMissing),
            (
                AuthError::session_not_found(403, "Session not found"),
                AuthErrorKind::SessionMissing,
            ),
            (
                AuthError::pkce_verifier_missing(),
                AuthErrorKind::PkceVerifierMissing,
            ),
            (
                AuthError::invalid_response("no session"),
                AuthErrorKind::InvalidResponse,
            ),
            (
                AuthError::invalid_input("empty email"),
                AuthErrorKind::InvalidInput,
            ),
        ];
        for (error, kind) in cases {
            assert_eq!(error.kind(), kind, "{error}");
        }
        let expired = AuthError::from_jwt(JwtError::Expired);
        assert!(expired.is_expired() && expired.is_invalid_jwt() && !expired.is_transient());
        let unknown = AuthError::unknown_key(api(401, Some("bad_jwt")));
        assert!(unknown.is_invalid_jwt() && !unknown.is_transient());
    }

    #[test]
    fn the_cause_is_kept_as_the_source() {
        let err = AuthError::from_jwt(JwtError::InvalidSignature);
        let source = err.source().unwrap();
        assert_eq!(
            source.downcast_ref::<JwtError>(),
            Some(&JwtError::InvalidSignature)
        );
        let refusal = AuthError::api(403, Some("bad_jwt".into()), "invalid JWT");
        let err = AuthError::unknown_key(refusal);
        let source = err.source().unwrap().downcast_ref::<AuthError>().unwrap();
        assert_eq!(source.status(), Some(403));
        assert_eq!(source.code(), Some("bad_jwt"));
        assert!(AuthError::session_missing().source().is_none());
        assert_eq!(
            err.to_string(),
            "unknown signing key (HTTP 403, code bad_jwt): the token's signing key (kid) is \
             not in the project's JWKS, and the Auth server refused the token"
        );
    }

    #[tokio::test]
    async fn a_transport_error_is_kept_without_its_url() {
        // A port nothing listens on (bound, then closed).
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let url =
            format!("http://127.0.0.1:{port}/auth/v1/verify?token=secret-token&redirect_to=x");
        let reqwest_error = reqwest::Client::new().get(&url).send().await.unwrap_err();
        let err = AuthError::from_reqwest(reqwest_error);
        assert_eq!(err.kind(), AuthErrorKind::AuthUnavailable);
        let source = err.source().unwrap();
        assert!(source.downcast_ref::<reqwest::Error>().is_some());
        let mut chain = vec![err.to_string(), format!("{err:?}")];
        let mut next = err.source();
        while let Some(s) = next {
            chain.push(s.to_string());
            chain.push(format!("{s:?}"));
            next = s.source();
        }
        for text in &chain {
            assert!(!text.contains("secret-token"), "{text}");
            assert!(!text.contains("/auth/v1/verify"), "{text}");
        }
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
