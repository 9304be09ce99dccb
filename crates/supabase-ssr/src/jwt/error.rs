//! Why a token was not accepted.

/// Why an access token was not accepted.
///
/// Messages never contain the token or any part of it. Only
/// [`JwksUnavailable`](JwtError::JwksUnavailable) is transient; every other variant means
/// the token itself is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// Not a well-formed JWT: wrong number of parts, bad base64url, bad JSON, too long,
    /// or a claim of the wrong type. The text says which, without quoting the token.
    #[error("malformed JWT: {0}")]
    Malformed(&'static str),
    /// The header's `alg` is `none` (in any case).
    #[error("JWT algorithm `none` is not accepted")]
    AlgNone,
    /// No `exp` claim (or `exp` is 0), as auth-js treats it.
    #[error("JWT has no exp claim")]
    MissingExp,
    /// `exp` is at or before now (minus the configured leeway).
    #[error("JWT has expired")]
    Expired,
    /// `nbf` is after now (plus the configured leeway).
    #[error("JWT is not valid yet")]
    NotYetValid,
    /// The header's `alg` differs from the algorithm of the JWKS key named by its `kid`.
    #[error("JWT algorithm does not match its signing key")]
    AlgorithmMismatch,
    /// The signature does not verify with the JWKS key named by the token's `kid`.
    #[error("invalid JWT signature")]
    InvalidSignature,
    /// `iss` is absent or differs from the configured issuer.
    #[error("JWT issuer is not the expected one")]
    InvalidIssuer,
    /// `aud` is absent or does not contain the configured audience.
    #[error("JWT audience is not the expected one")]
    InvalidAudience,
    /// No `sub` claim.
    #[error("JWT has no sub claim")]
    MissingSubject,
    /// The project's JWKS could not be fetched (or parsed) and no usable cached key is
    /// left. Transient: the token may be fine, so retry later or fail the request with a
    /// 5xx rather than treating the user as signed out.
    #[error("the signing keys (JWKS) are unavailable")]
    JwksUnavailable,
}

impl JwtError {
    /// Whether the failure is transient (the token was not judged).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::JwksUnavailable)
    }
}
