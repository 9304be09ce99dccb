//! Local verification of an access token: decode, time checks, signature against the
//! JWKS, issuer/audience/subject checks.

use std::sync::{Arc, Once};

use jsonwebtoken::crypto::{CryptoProvider, aws_lc};

use crate::clock::SharedClock;

use super::decode::{DecodedToken, HeaderAlg, decode};
use super::jwk::VerifyKey;
use super::jwks::{JwksCache, JwksSource, JwksTimings, KeyLookup};
use super::token_cache::{Hit, TokenCache};
use super::{Claims, JwtConfig, JwtError, VerifiedClaims};

/// The outcome of a local verification that did not reject the token.
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "the large variant is the rare one, followed by an HTTP round trip anyway"
)]
pub(crate) enum Verification {
    /// The signature verified against the project's JWKS and every claim check passed.
    Verified(VerifiedClaims),
    /// The token could not be verified locally, but nothing in it is wrong so far. Trust
    /// the claims only after the Auth server accepts the token (`GET /user`), as auth-js
    /// does.
    NeedsServerCheck {
        /// The decoded, unverified claims; they passed the time and claim checks.
        claims: Claims,
        /// Why local verification was not possible.
        reason: FallbackReason,
    },
}

// What the tests read off an outcome; the client matches on the variants.
#[cfg(test)]
impl Verification {
    /// The claims, verified or not.
    pub(crate) fn claims(&self) -> &Claims {
        match self {
            Self::Verified(claims) => claims,
            Self::NeedsServerCheck { claims, .. } => claims,
        }
    }

    /// Consumes the verification and returns the claims, verified or not.
    pub(crate) fn into_claims(self) -> Claims {
        match self {
            Self::Verified(claims) => claims.into_claims(),
            Self::NeedsServerCheck { claims, .. } => claims,
        }
    }

    /// Whether the signature was verified locally.
    pub(crate) fn is_verified(&self) -> bool {
        matches!(self, Self::Verified(_))
    }
}

/// Why a token has to be checked by the Auth server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum FallbackReason {
    /// `alg` is HS256 (or another HS*): only the Auth server holds the secret.
    SymmetricAlgorithm,
    /// The header has no `kid`.
    MissingKid,
    /// The `kid` is not in the JWKS, even after a refetch (or a refetch was not allowed
    /// yet because of the cooldown).
    UnknownKid,
    /// The `kid` is in the JWKS, but its key is not one we verify locally (an algorithm
    /// other than ES256/RS256/EdDSA, a non-signature key, bad key material).
    UnsupportedKey,
}

/// What the verified-token cache can say about a token without waiting on anything.
enum CacheAnswer {
    /// A hit that passes the time checks, under the same fresh key set.
    Verified(VerifiedClaims),
    /// A hit whose cached claims are expired (or not yet valid).
    Expired(JwtError),
    /// A hit that passes the time checks, but whose key set needs a lookup (TTL passed,
    /// or the generation moved).
    NeedsLookup(Hit),
    /// Not in the cache (or the cache is off).
    Miss,
}

/// The verification of one session's access token, kept with the decoded session in the
/// decoded-session cache: the verified-token cache's entry for that token (its claims,
/// key and JWKS generation). A request reading the same cookie again finds the claims
/// there, and checks them as a verified-token cache hit is checked, without looking the
/// token up (and comparing its bytes) in the second cache. Set once: after the JWKS
/// changes, an old memo no longer passes, and the verified-token cache answers as before
/// until the session is refreshed.
#[derive(Default)]
pub(crate) struct VerifiedMemo(std::sync::OnceLock<Hit>);

/// Verifies access tokens for one project. Shared by every request (put it in an `Arc`).
pub(crate) struct JwtVerifier {
    issuer: Option<String>,
    audience: Option<String>,
    leeway_secs: i64,
    clock: SharedClock,
    jwks: JwksCache,
    /// Verified-token cache (`token_cache.rs`); `None` when turned off.
    tokens: Option<TokenCache>,
    /// Signature checks made, so tests can tell a cache hit from a verification.
    #[cfg(test)]
    signature_checks: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("leeway_secs", &self.leeway_secs)
            .field("jwks", &self.jwks)
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

/// jsonwebtoken panics on first use if it cannot pick a process-wide crypto provider (for
/// example when feature unification enables both of its backends). We verify with
/// aws-lc-rs directly, so we never depend on that choice, but we still install its aws-lc
/// provider so other jsonwebtoken users in the process do not hit the panic. An application that
/// installed its own provider first keeps it.
fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _already_installed = CryptoProvider::install_default(&aws_lc::DEFAULT_PROVIDER);
    });
}

impl JwtVerifier {
    pub(crate) fn new(config: JwtConfig, source: Arc<dyn JwksSource>, clock: SharedClock) -> Self {
        install_crypto_provider();
        let timings = JwksTimings {
            ttl: config.jwks_ttl,
            cooldown: config.unknown_kid_cooldown,
            stale_max: config.stale_max,
        };
        Self {
            issuer: config.issuer,
            audience: config.audience,
            leeway_secs: i64::try_from(config.leeway_secs).unwrap_or(i64::MAX),
            jwks: JwksCache::new(source, Arc::clone(&clock), timings),
            clock,
            tokens: (config.verified_token_cache_entries > 0).then(|| {
                TokenCache::new(
                    config.verified_token_cache_entries,
                    config.verified_token_cache_max_age,
                )
            }),
            #[cfg(test)]
            signature_checks: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    #[cfg(test)]
    /// The JWKS cache (its generation counter is what a verified-token cache keys on).
    pub(crate) fn jwks(&self) -> &JwksCache {
        &self.jwks
    }

    /// Verifies `token` locally.
    ///
    /// Order, as auth-js plus our extra checks: decode; reject `alg: none`; `exp` (missing
    /// → [`JwtError::MissingExp`], `exp <= now - leeway` → [`JwtError::Expired`]); `nbf`;
    /// then HS*, no `kid`, or a `kid` that is not (verifiably) in the JWKS give
    /// [`Verification::NeedsServerCheck`]; otherwise the signature must verify with the
    /// JWKS key, whose algorithm must equal the header's. Last, `iss`, `aud` and `sub` are
    /// checked, on both outcomes.
    ///
    /// Before all that, a token that verified before (byte for byte) is answered from the
    /// verified-token cache, after its `exp`/`nbf` and the JWKS are checked again.
    pub(crate) async fn verify(&self, token: &str) -> Result<Verification, JwtError> {
        if let Some(claims) = self.cached(token).await? {
            return Ok(Verification::Verified(claims));
        }
        let decoded = decode(token)?;
        if decoded.alg == HeaderAlg::None {
            return Err(JwtError::AlgNone);
        }
        self.check_times(&decoded.claims)?;
        // Read before the lookup: a cached entry must never claim a key set newer than
        // the one its signature was checked against.
        let generation_before = self.jwks.generation();
        let fallback = match (decoded.alg, decoded.kid.as_deref()) {
            (HeaderAlg::Hmac, _) => Some(FallbackReason::SymmetricAlgorithm),
            (_, None) => Some(FallbackReason::MissingKid),
            (_, Some(kid)) => match self.jwks.lookup(kid).await {
                KeyLookup::Key(key) => {
                    #[cfg(test)]
                    self.signature_checks
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    check_signature(&decoded, &key)?;
                    None
                }
                KeyLookup::Unsupported => Some(FallbackReason::UnsupportedKey),
                KeyLookup::Unknown => Some(FallbackReason::UnknownKid),
                KeyLookup::Unavailable => return Err(JwtError::JwksUnavailable),
            },
        };
        self.check_claims(&decoded.claims)?;
        let claims = decoded.claims;
        Ok(match fallback {
            None => {
                let claims = match (&self.tokens, decoded.kid.as_deref()) {
                    (Some(cache), Some(kid)) => {
                        self.remember(cache, token, kid, claims, generation_before)
                    }
                    _ => Arc::new(claims),
                };
                Verification::Verified(VerifiedClaims::new(claims))
            }
            Some(reason) => Verification::NeedsServerCheck { claims, reason },
        })
    }

    /// Puts a token that just verified into the verified-token cache; gives back its
    /// claims as the cache shares them.
    fn remember(
        &self,
        cache: &TokenCache,
        token: &str,
        kid: &str,
        claims: Claims,
        generation_before: u64,
    ) -> Arc<Claims> {
        // Generation 0 has no keys, so a key found when it was 0 came from a later set:
        // from set 1 if that is where the count stands now. In any other change during
        // the lookup, the older generation is kept and the next use verifies once more.
        let generation = match (generation_before, self.jwks.generation()) {
            (0, 1) => 1,
            (before, _) => before,
        };
        cache.insert(token, kid, claims, generation, self.clock.now_millis())
    }

    /// What the verified-token cache can say about `token` without waiting on anything.
    fn cache_answer(&self, token: &str, now: i64) -> CacheAnswer {
        let Some(hit) = self.tokens.as_ref().and_then(|cache| cache.get(token, now)) else {
            return CacheAnswer::Miss;
        };
        if let Err(error) = self.check_times_at(&hit.claims, now) {
            return CacheAnswer::Expired(error);
        }
        // Within the TTL, an unchanged generation is the answer a key lookup would give.
        if self.jwks.is_fresh_generation(hit.generation, now) {
            return CacheAnswer::Verified(VerifiedClaims::new(hit.claims));
        }
        CacheAnswer::NeedsLookup(hit)
    }

    /// The verified-token cache's answer for `token` when it needs nothing that waits:
    /// a hit whose `exp`/`nbf` pass and whose JWKS is still the fresh set it was
    /// verified against. `None` in every other case, which [`Self::verify`] decides in
    /// full (with the same cache).
    pub(crate) fn verified_from_cache(&self, token: &str) -> Option<VerifiedClaims> {
        match self.cache_answer(token, self.clock.now_millis()) {
            CacheAnswer::Verified(claims) => Some(claims),
            _ => None,
        }
    }

    /// The claims a session's memo holds for its access token, when they pass what a
    /// verified-token cache hit must pass without waiting: the entry's maximum age, `exp`
    /// and `nbf`, and the JWKS still the fresh set the signature was checked against.
    /// `None` otherwise: the caller verifies the token in full.
    pub(crate) fn verified_from_memo(&self, memo: &VerifiedMemo) -> Option<VerifiedClaims> {
        self.verified_from_memo_at(memo, self.clock.now_millis())
    }

    /// [`Self::verified_from_memo`] at `now` (the caller's clock reading, so a request
    /// reads the clock once).
    pub(crate) fn verified_from_memo_at(
        &self,
        memo: &VerifiedMemo,
        now: i64,
    ) -> Option<VerifiedClaims> {
        let hit = memo.0.get()?;
        let cache = self.tokens.as_ref()?;
        let fresh = now.saturating_sub(hit.inserted_ms) < cache.max_age_ms()
            && self.check_times_at(&hit.claims, now).is_ok()
            && self.jwks.is_fresh_generation(hit.generation, now);
        fresh.then(|| VerifiedClaims::new(Arc::clone(&hit.claims)))
    }

    /// Keeps, in a session's memo, the verified-token cache's entry for its access token
    /// (after that token verified), so the session's next reads skip the second cache.
    pub(crate) fn fill_memo(&self, memo: &VerifiedMemo, token: &str) {
        if memo.0.get().is_some() {
            return;
        }
        if let Some(hit) = self
            .tokens
            .as_ref()
            .and_then(|cache| cache.get(token, self.clock.now_millis()))
        {
            let _ = memo.0.set(hit);
        }
    }

    /// The verified-token cache's answer for `token`: `Ok(Some)` on a hit that passes
    /// the same time and key checks a full verification would make, `Ok(None)` when the
    /// token has to be verified, an error when its cached claims are expired.
    async fn cached(&self, token: &str) -> Result<Option<VerifiedClaims>, JwtError> {
        let forget = || {
            if let Some(cache) = &self.tokens {
                cache.remove(token);
            }
        };
        match self.cache_answer(token, self.clock.now_millis()) {
            CacheAnswer::Verified(claims) => Ok(Some(claims)),
            CacheAnswer::Miss => Ok(None),
            CacheAnswer::Expired(error) => {
                forget();
                Err(error)
            }
            CacheAnswer::NeedsLookup(Hit {
                claims,
                kid,
                generation,
                ..
            }) => {
                // The lookup a full verification would make (TTL refetch, stale limit,
                // outage), then the key set must still be the one the signature was
                // checked against; otherwise verify again, once, against what is
                // published now.
                let still_published = matches!(self.jwks.lookup(&kid).await, KeyLookup::Key(_))
                    && self.jwks.generation() == generation;
                if !still_published {
                    forget();
                    return Ok(None);
                }
                Ok(Some(VerifiedClaims::new(claims)))
            }
        }
    }

    #[cfg(test)]
    /// The verified-token cache, if on.
    pub(crate) fn token_cache(&self) -> Option<&TokenCache> {
        self.tokens.as_ref()
    }

    #[cfg(test)]
    /// How many signatures were checked so far.
    pub(crate) fn signature_checks(&self) -> usize {
        self.signature_checks
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// `exp` and `nbf` against the clock. Also what a cached verification must re-check.
    pub(crate) fn check_times(&self, claims: &Claims) -> Result<(), JwtError> {
        self.check_times_at(claims, self.clock.now_millis())
    }

    fn check_times_at(&self, claims: &Claims, now_ms: i64) -> Result<(), JwtError> {
        let now = now_ms.div_euclid(1000);
        // auth-js: `if (!exp) throw 'Missing exp claim'`, so 0 counts as missing.
        let exp = claims
            .exp
            .filter(|exp| *exp != 0)
            .ok_or(JwtError::MissingExp)?;
        if exp <= now.saturating_sub(self.leeway_secs) {
            return Err(JwtError::Expired);
        }
        if let Some(nbf) = claims.nbf
            && nbf > now.saturating_add(self.leeway_secs)
        {
            return Err(JwtError::NotYetValid);
        }
        Ok(())
    }

    fn check_claims(&self, claims: &Claims) -> Result<(), JwtError> {
        if let Some(issuer) = &self.issuer
            && claims.iss.as_deref() != Some(issuer.as_str())
        {
            return Err(JwtError::InvalidIssuer);
        }
        if let Some(audience) = &self.audience
            && !claims.audiences().any(|aud| aud == audience)
        {
            return Err(JwtError::InvalidAudience);
        }
        if claims.sub.is_none() {
            return Err(JwtError::MissingSubject);
        }
        Ok(())
    }
}

/// The signature only, with the key aws-lc parsed when the JWKS was fetched. Claims are
/// checked by us: jsonwebtoken's `exp` rule (`exp < now - leeway`, 60 s default leeway)
/// differs from auth-js's `exp <= now`.
fn check_signature(decoded: &DecodedToken<'_>, key: &VerifyKey) -> Result<(), JwtError> {
    // The algorithm is the JWK's; the header only has to agree with it.
    if decoded.alg != HeaderAlg::Known(key.alg) {
        return Err(JwtError::AlgorithmMismatch);
    }
    if key.verifies(decoded.signing_input.as_bytes(), &decoded.signature) {
        Ok(())
    } else {
        Err(JwtError::InvalidSignature)
    }
}
