//! Verifying access tokens against the project JWKS.
//!
//! This is the local half of `get_claims()`. A token is decoded the way auth-js decodes it
//! (three unpadded base64url parts, JSON header and payload), its `exp` checked the way
//! auth-js checks it (`exp <= now` is expired), and its signature verified with the
//! project's published keys (ES256, RS256 or EdDSA). Where that is impossible (HS256
//! projects, no `kid`, a `kid` the JWKS does not list even after a refetch) the Auth
//! server is asked instead (`GET /user`), and the decoded claims are trusted only if it
//! accepts the token.
//!
//! Beyond auth-js: issuer and audience are checked by default (see the `jwt_*` and
//! `jwks_*` settings of [`SupabaseAuthBuilder`](crate::SupabaseAuthBuilder)), an unknown
//! `kid` causes at most one JWKS fetch per cooldown for the whole process, concurrent
//! callers share one fetch, and cached keys keep working for a while when the JWKS
//! endpoint is down. A verified-token cache answers for tokens seen before without a
//! signature check.

mod claims;
mod error;

mod decode;
mod jwk;
mod jwks;
mod token_cache;
mod verified;
mod verify;

#[cfg(test)]
mod tests;

use std::time::Duration;

pub use claims::{AmrEntry, Audience, Claims};
pub use error::JwtError;
pub(crate) use jwks::{JwksFetchError, JwksSource};
pub use verified::VerifiedClaims;
pub(crate) use verify::JwtVerifier;
pub(crate) use verify::{FallbackReason, Verification, VerifiedMemo};

/// How access tokens are checked: the defaults of the builder's `jwt_*`, `jwks_*` and
/// `verified_token_cache` settings, in one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JwtConfig {
    /// Expected `iss`; `None` skips the check. Default: the Auth URL
    /// (`https://<ref>.supabase.co/auth/v1`), which is what Supabase Auth writes.
    pub(crate) issuer: Option<String>,
    /// An audience `aud` must contain; `None` skips the check. Default: `authenticated`.
    pub(crate) audience: Option<String>,
    /// Allowed clock skew, in seconds, for `exp` and `nbf`. Default 0, as in auth-js.
    pub(crate) leeway_secs: u64,
    /// How long a fetched JWKS is used before it is fetched again. Default 10 minutes, as in
    /// auth-js.
    pub(crate) jwks_ttl: Duration,
    /// The shortest time between two JWKS fetches, whatever triggers them; so a token with
    /// an unknown `kid` causes at most one refetch per cooldown, shared by all callers.
    /// Default 30 seconds.
    pub(crate) unknown_kid_cooldown: Duration,
    /// When refetching fails, keys from the last successful fetch keep verifying until this
    /// long after that fetch. Default 1 hour.
    pub(crate) stale_max: Duration,
    /// How many verified tokens are remembered, so a token seen again is accepted without
    /// a signature check (its `exp`/`nbf` and the JWKS are still checked on every use).
    /// 0 turns the cache off. Default 16,384 (about 3.4 KB each for typical tokens).
    pub(crate) verified_token_cache_entries: usize,
    /// The longest a verified token is remembered, whatever its `exp`. Default 1 hour.
    pub(crate) verified_token_cache_max_age: Duration,
}

impl JwtConfig {
    /// The defaults for a project whose Auth URL is `auth_url`
    /// (`https://<ref>.supabase.co/auth/v1`; a trailing `/` is ignored).
    pub(crate) fn for_auth_url(auth_url: &str) -> Self {
        Self {
            issuer: Some(auth_url.trim_end_matches('/').to_owned()),
            audience: Some("authenticated".to_owned()),
            leeway_secs: 0,
            jwks_ttl: Duration::from_secs(10 * 60),
            unknown_kid_cooldown: Duration::from_secs(30),
            stale_max: Duration::from_secs(60 * 60),
            verified_token_cache_entries: token_cache::DEFAULT_MAX_ENTRIES,
            verified_token_cache_max_age: token_cache::DEFAULT_MAX_AGE,
        }
    }
}
