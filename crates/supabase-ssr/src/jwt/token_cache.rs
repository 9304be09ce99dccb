//! The verified-token cache: an access token whose signature verified once is accepted
//! again without a signature check.
//!
//! A browser sends the same access token with every request for up to an hour, and a
//! signature check (ES256: about 100 µs here) is most of what a verified request costs.
//! The cache remembers the outcome of a full verification, keyed by the exact bytes of
//! the token, and is consulted before any decoding.
//!
//! What a hit still checks, so it answers exactly as a full verification would (see
//! `JwtVerifier::verify`):
//! - `exp` and `nbf` against the clock, on every hit;
//! - the age of the entry against the configured maximum;
//! - the JWKS: the key set must be the one the token was verified with (its generation,
//!   which moves only when the published keys change), and it goes through the same
//!   lookup as a full verification, so the TTL refetch, the stale limit and outages
//!   apply to hits too. A token whose key left the JWKS is dropped at its next use.
//!
//! Only [`Verification::Verified`](super::Verification::Verified) outcomes are stored,
//! never claims that still need the Auth server's word (`GET /user`).
//!
//! Bounded: at most `max_entries` tokens, in a [`BoundedMap`] (a ring: a full cache
//! overwrites its oldest entry), so memory stays flat however many distinct tokens pass
//! through. Each entry holds the token and its claims, about 2 KB for a
//! typical Supabase token.

use std::sync::Arc;
use std::time::Duration;

use super::Claims;
use crate::bounded::BoundedMap;

/// Default number of entries: 10,000 users active at once with room to spare, as the
/// decoded-session cache (about 3.4 KB each, measured with `bench memory`, so about
/// 55 MB when full; taken only as that many tokens come).
pub(crate) const DEFAULT_MAX_ENTRIES: usize = 16_384;

/// Default longest time an entry is used, whatever the token's `exp`: one hour, the
/// default Supabase access-token lifetime, so it rarely shortens anything.
pub(crate) const DEFAULT_MAX_AGE: Duration = Duration::from_secs(60 * 60);

/// What a hit gives back: enough to finish the checks outside the lock.
#[derive(Clone)]
pub(crate) struct Hit {
    pub(crate) claims: Arc<Claims>,
    pub(crate) kid: Arc<str>,
    /// The JWKS generation the token was verified under.
    pub(crate) generation: u64,
    /// When the token was verified (its entry's age is bounded by the maximum age).
    pub(crate) inserted_ms: i64,
}

/// A bounded map from exact token bytes to verified claims.
pub(crate) struct TokenCache {
    max_age_ms: i64,
    entries: BoundedMap<Entry>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("max_age_ms", &self.max_age_ms)
            .finish_non_exhaustive()
    }
}

struct Entry {
    claims: Arc<Claims>,
    kid: Arc<str>,
    generation: u64,
    inserted_ms: i64,
}

impl TokenCache {
    /// A cache of at most `max_entries` tokens (at least 1), each used for at most
    /// `max_age`.
    pub(crate) fn new(max_entries: usize, max_age: Duration) -> Self {
        Self {
            max_age_ms: i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX),
            entries: BoundedMap::new(max_entries),
        }
    }

    /// Hashes the signature part and the length: the signature is what differs between
    /// any two tokens a project issues, and is far shorter than the whole token. Tokens
    /// that share a signature only collide; a hit always compares every byte.
    fn hash(&self, token: &str) -> u64 {
        let bytes = token.as_bytes();
        let signature = memchr::memrchr(b'.', bytes).map_or(bytes, |dot| &bytes[dot + 1..]);
        self.entries.hash(&[signature, &token.len().to_le_bytes()])
    }

    /// The entry for exactly `token`, unless it is older than the maximum age (then it
    /// is dropped). Claims times and the JWKS are the caller's to check.
    pub(crate) fn get(&self, token: &str, now_ms: i64) -> Option<Hit> {
        self.entries
            .get(token.as_bytes(), self.hash(token), |entry| {
                (now_ms.saturating_sub(entry.inserted_ms) < self.max_age_ms).then(|| Hit {
                    claims: Arc::clone(&entry.claims),
                    kid: Arc::clone(&entry.kid),
                    generation: entry.generation,
                    inserted_ms: entry.inserted_ms,
                })
            })
    }

    /// Remembers that `token` verified with the key `kid` of JWKS generation
    /// `generation`, and gives back the claims as the cache shares them. A token
    /// already present is updated in place.
    ///
    /// The entry it replaces (this token's, or the oldest once the cache is full) is
    /// rebuilt in place when no request still holds its claims: `claims` is copied into
    /// the buffers the old claims own, so a full cache under a stream of new tokens
    /// does not allocate, and its memory stays where it was first allocated.
    pub(crate) fn insert(
        &self,
        token: &str,
        kid: &str,
        claims: Claims,
        generation: u64,
        now_ms: i64,
    ) -> Arc<Claims> {
        let (shared, copied) = self.entries.insert_reusing(token, self.hash(token), |old| {
            let (shared, kid, copied) = match old {
                Some(mut old) => {
                    let copied = if let Some(reused) = Arc::get_mut(&mut old.claims) {
                        reused.clone_from(&claims);
                        Some(claims)
                    } else {
                        old.claims = Arc::new(claims);
                        None
                    };
                    if *old.kid != *kid {
                        old.kid = Arc::from(kid);
                    }
                    (old.claims, old.kid, copied)
                }
                None => (Arc::new(claims), Arc::from(kid), None),
            };
            let entry = Entry {
                claims: Arc::clone(&shared),
                kid,
                generation,
                inserted_ms: now_ms,
            };
            (entry, (shared, copied))
        });
        // The claims that were copied are freed here, outside the cache's lock.
        drop(copied);
        shared
    }

    /// The longest an entry is used, in milliseconds.
    pub(crate) fn max_age_ms(&self) -> i64 {
        self.max_age_ms
    }

    /// Forgets `token` (its key left the JWKS, it expired, ...).
    pub(crate) fn remove(&self, token: &str) {
        self.entries.remove(token, self.hash(token));
    }

    /// How many tokens are held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests;
