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
//! Bounded: at most `max_entries` tokens; inserting into a full cache overwrites the
//! oldest entry (a ring, O(1) per operation), so memory stays flat however many distinct
//! tokens pass through. Each entry holds the token and its claims, about 2 KB for a
//! typical Supabase token.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::Claims;

/// Default number of entries: a few thousand concurrently active users per process.
pub(crate) const DEFAULT_MAX_ENTRIES: usize = 10_000;

/// Default longest time an entry is used, whatever the token's `exp`: one hour, the
/// default Supabase access-token lifetime, so it rarely shortens anything.
pub(crate) const DEFAULT_MAX_AGE: Duration = Duration::from_secs(60 * 60);

/// What a hit gives back: enough to finish the checks outside the lock.
pub(crate) struct Hit {
    pub(crate) claims: Arc<Claims>,
    pub(crate) kid: Arc<str>,
    /// The JWKS generation the token was verified under.
    pub(crate) generation: u64,
}

/// A bounded map from exact token bytes to verified claims.
pub(crate) struct TokenCache {
    max_entries: usize,
    max_age_ms: i64,
    // Keyed per process, so nobody can aim many tokens at one bucket.
    hasher: std::hash::RandomState,
    // Held only for map and slot updates, never across an await.
    ring: Mutex<Ring>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("max_entries", &self.max_entries)
            .field("max_age_ms", &self.max_age_ms)
            .finish_non_exhaustive()
    }
}

/// Entries in insertion order, in slots reused in turn once all are taken.
#[derive(Default)]
struct Ring {
    /// Token hash -> slot.
    index: HashMap<u64, usize, BuildHasherDefault<PrehashedKey>>,
    /// Grows up to `max_entries`, then stays that long.
    slots: Vec<Option<Entry>>,
    /// The slot the next insertion overwrites once `slots` is full: the oldest.
    next: usize,
}

struct Entry {
    hash: u64,
    token: Box<str>,
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
            max_entries: max_entries.max(1),
            max_age_ms: i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX),
            hasher: std::hash::RandomState::new(),
            ring: Mutex::new(Ring::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Ring> {
        // Every update leaves the ring consistent (index and slots change together under
        // the lock, with no code that can panic in between), so a poisoned lock is usable.
        self.ring.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Hashes the signature part and the length: the signature is what differs between
    /// any two tokens a project issues, and is far shorter than the whole token. Tokens
    /// that share a signature only collide; a hit always compares every byte.
    fn hash(&self, token: &str) -> u64 {
        let signature = token.rsplit('.').next().unwrap_or(token);
        let mut h = self.hasher.build_hasher();
        h.write(signature.as_bytes());
        h.write_usize(token.len());
        h.finish()
    }

    /// The entry for exactly `token`, unless it is older than the maximum age (then it
    /// is dropped). Claims times and the JWKS are the caller's to check.
    pub(crate) fn get(&self, token: &str, now_ms: i64) -> Option<Hit> {
        let hash = self.hash(token);
        let mut ring = self.lock();
        let slot = *ring.index.get(&hash)?;
        let entry = ring.slots.get(slot)?.as_ref()?;
        if &*entry.token != token {
            return None;
        }
        if now_ms.saturating_sub(entry.inserted_ms) >= self.max_age_ms {
            ring.clear_slot(slot);
            return None;
        }
        Some(Hit {
            claims: Arc::clone(&entry.claims),
            kid: Arc::clone(&entry.kid),
            generation: entry.generation,
        })
    }

    /// Remembers that `token` verified with the key `kid` of JWKS generation
    /// `generation`. A token already present is updated in place.
    pub(crate) fn insert(
        &self,
        token: &str,
        kid: &str,
        claims: Claims,
        generation: u64,
        now_ms: i64,
    ) {
        let hash = self.hash(token);
        let entry = Entry {
            hash,
            token: Box::from(token),
            claims: Arc::new(claims),
            kid: Arc::from(kid),
            generation,
            inserted_ms: now_ms,
        };
        let mut ring = self.lock();
        if let Some(&slot) = ring.index.get(&hash) {
            // The same token verified again (two requests raced on a miss), or another
            // token with the same hash: either way the newest wins the slot.
            if let Some(place) = ring.slots.get_mut(slot) {
                *place = Some(entry);
                return;
            }
        }
        let slot = if ring.slots.len() < self.max_entries {
            ring.slots.push(None);
            ring.slots.len() - 1
        } else {
            let oldest = ring.next;
            ring.next = (oldest + 1) % self.max_entries;
            ring.clear_slot(oldest);
            oldest
        };
        ring.slots[slot] = Some(entry);
        ring.index.insert(hash, slot);
    }

    /// Forgets `token` (its key left the JWKS, it expired, ...).
    pub(crate) fn remove(&self, token: &str) {
        let hash = self.hash(token);
        let mut ring = self.lock();
        let Some(&slot) = ring.index.get(&hash) else {
            return;
        };
        if ring
            .slots
            .get(slot)
            .and_then(Option::as_ref)
            .is_some_and(|e| &*e.token == token)
        {
            ring.clear_slot(slot);
        }
    }

    /// How many tokens are held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().index.len()
    }
}

impl Ring {
    fn clear_slot(&mut self, slot: usize) {
        if let Some(old) = self.slots.get_mut(slot).and_then(Option::take) {
            // The index may already point elsewhere for this hash (a colliding token
            // took over); only remove what points here.
            if self.index.get(&old.hash) == Some(&slot) {
                self.index.remove(&old.hash);
            }
        }
    }
}

/// The map's keys are already keyed hashes; hashing them again would only cost time.
#[derive(Default)]
struct PrehashedKey(u64);

impl Hasher for PrehashedKey {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used by `u64` keys; this keeps any other use correct.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests;
