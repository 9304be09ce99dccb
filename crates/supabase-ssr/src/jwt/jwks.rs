//! The JWKS cache: TTL, cooldown-limited refetch on unknown `kid`, single flight, stale
//! keys during outages. Every time comes from the injected clock.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::clock::SharedClock;

use super::jwk::{KeyEntry, KeySet, VerifyKey};

/// Where the JWKS document comes from: `GET {auth_url}/.well-known/jwks.json` in the client,
/// an in-memory fake in tests.
pub(crate) trait JwksSource: Send + Sync {
    /// Fetches the raw JWKS document (the response body of a 2xx).
    fn fetch(&self) -> Pin<Box<dyn Future<Output = Result<Vec<u8>, JwksFetchError>> + Send + '_>>;
}

/// A JWKS fetch failed: network error, non-2xx status, timeout.
#[derive(Debug, Clone, thiserror::Error)]
#[error("JWKS fetch failed: {reason}")]
pub(crate) struct JwksFetchError {
    reason: String,
}

impl JwksFetchError {
    /// `reason` is logged; it must not contain secrets (API keys, tokens).
    pub(crate) fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

/// The timings of the cache; see [`JwtConfig`](super::JwtConfig).
#[derive(Debug, Clone, Copy)]
pub(crate) struct JwksTimings {
    pub(crate) ttl: Duration,
    pub(crate) cooldown: Duration,
    pub(crate) stale_max: Duration,
}

/// The outcome of looking up a `kid`.
#[derive(Debug, Clone)]
pub(crate) enum KeyLookup {
    Key(Arc<VerifyKey>),
    /// In the JWKS, but not verifiable locally.
    Unsupported,
    /// Not in the (fresh or still usable stale) JWKS, and no refetch is allowed now.
    Unknown,
    /// No JWKS could be fetched and no usable stale one is left.
    Unavailable,
}

/// The JWKS of one project, parsed once per fetch and shared by every request.
pub(crate) struct JwksCache {
    source: Arc<dyn JwksSource>,
    clock: SharedClock,
    ttl_ms: i64,
    cooldown_ms: i64,
    stale_max_ms: i64,
    // Held only for reads and writes of plain data, never across an await.
    state: Mutex<State>,
    // Held across the fetch: concurrent callers that need a fetch wait here, then find the
    // result in `state` instead of fetching again.
    fetch_lock: tokio::sync::Mutex<()>,
    generation: AtomicU64,
    /// Until when (ms) the key set in use is fresh: its fetch time plus the TTL (or the
    /// stale limit, if shorter); `i64::MIN` while there is none. Written under `state`'s
    /// lock after the keys and the generation, read without it by every request.
    fresh_until_ms: AtomicI64,
}

#[derive(Default)]
struct State {
    /// The last non-empty JWKS successfully fetched.
    keys: Option<Arc<KeySet>>,
    /// When `keys` was last fetched (or re-fetched unchanged).
    fetched_at_ms: i64,
    /// When any fetch was last attempted, whatever its outcome.
    last_attempt_ms: Option<i64>,
    /// The last attempt failed (error or unparseable). An empty JWKS is not a failure here:
    /// the server answered that it has no keys, so tokens go to the server.
    last_failed: bool,
    /// Failed attempts in a row, reset by a success: the backoff while no key is usable.
    failures: u32,
}

/// While no key is usable and the last fetch failed, the next fetch may start this long
/// after it, doubling with each failure in a row, up to the unknown-`kid` cooldown: a
/// failed first fetch does not block local verification for the whole cooldown.
const FIRST_RETRY_MS: i64 = 1_000;

enum Plan {
    Done(KeyLookup),
    /// Fetch first. `usable` is a still-usable (stale) key for the kid, served instead of
    /// waiting when another caller is already fetching.
    Fetch {
        usable: Option<Arc<VerifyKey>>,
    },
}

impl std::fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksCache")
            .field("generation", &self.generation())
            .finish_non_exhaustive()
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl JwksCache {
    pub(crate) fn new(
        source: Arc<dyn JwksSource>,
        clock: SharedClock,
        timings: JwksTimings,
    ) -> Self {
        Self {
            source,
            clock,
            ttl_ms: millis(timings.ttl),
            cooldown_ms: millis(timings.cooldown),
            stale_max_ms: millis(timings.stale_max),
            state: Mutex::new(State::default()),
            fetch_lock: tokio::sync::Mutex::new(()),
            generation: AtomicU64::new(0),
            fresh_until_ms: AtomicI64::new(i64::MIN),
        }
    }

    /// Bumped each time a fetch brings a key set that differs from the previous one (kids,
    /// algorithms or key material). A verified-token cache can compare it to skip
    /// re-checking that a cached token's `kid` is still published.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Whether the key set in use is within its TTL (a lookup would not fetch) and is
    /// still `generation`: then it holds every key it held when that generation began,
    /// and a lookup of one of them would find it. The verified-token cache's fast path,
    /// taken by every request: two atomic reads, no lock. A reader racing a fetch sees
    /// either the old set's time with any generation, or the new set's time with its
    /// generation (stored before the time): a mismatch only sends it the slow way.
    pub(crate) fn is_fresh_generation(&self, generation: u64, now: i64) -> bool {
        now < self.fresh_until_ms.load(Ordering::Acquire) && self.generation() == generation
    }

    #[cfg(test)]
    /// Whether the key set in use (fresh, or stale within `stale_max`) lists `kid`.
    pub(crate) fn has_kid(&self, kid: &str) -> bool {
        let now = self.clock.now_millis();
        let state = self.lock_state();
        now.saturating_sub(state.fetched_at_ms) < self.stale_max_ms
            && state.keys.as_ref().is_some_and(|keys| keys.contains(kid))
    }

    fn lock_state(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is plain data replaced in one step, so a panic elsewhere cannot leave
        // it half-written; carry on with it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Finds the key for `kid`, fetching the JWKS when it is missing, past its TTL, or does
    /// not list `kid` — at most once per cooldown, and once for all concurrent callers.
    pub(crate) async fn lookup(&self, kid: &str) -> KeyLookup {
        let usable = match self.plan(kid, true) {
            Plan::Done(done) => return done,
            Plan::Fetch { usable } => usable,
        };
        let _guard = match usable {
            // Refreshing after the TTL: whoever got the lock fetches, the rest keep using
            // the key they already have.
            Some(key) => match self.fetch_lock.try_lock() {
                Ok(guard) => guard,
                Err(_) => return KeyLookup::Key(key),
            },
            None => self.fetch_lock.lock().await,
        };
        // Whoever held the lock before us may have fetched already.
        if let Plan::Done(done) = self.plan(kid, true) {
            return done;
        }
        self.refetch().await;
        match self.plan(kid, false) {
            Plan::Done(done) => done,
            Plan::Fetch { .. } => KeyLookup::Unknown,
        }
    }

    fn plan(&self, kid: &str, may_fetch: bool) -> Plan {
        let now = self.clock.now_millis();
        let state = self.lock_state();
        let age = now.saturating_sub(state.fetched_at_ms);
        let keys = state.keys.as_ref().filter(|_| age < self.stale_max_ms);
        let fresh = keys.is_some() && age < self.ttl_ms;
        let entry = keys.and_then(|keys| keys.get(kid));
        let wait_ms = if keys.is_none() && state.last_failed {
            let doublings = state.failures.saturating_sub(1).min(20);
            FIRST_RETRY_MS
                .saturating_mul(1 << doublings)
                .min(self.cooldown_ms)
        } else {
            self.cooldown_ms
        };
        let can_fetch = may_fetch
            && state
                .last_attempt_ms
                .is_none_or(|at| now.saturating_sub(at) >= wait_ms);

        if can_fetch && !(fresh && entry.is_some()) {
            let usable = match entry {
                Some(KeyEntry::Usable(key)) => Some(Arc::clone(key)),
                _ => None,
            };
            return Plan::Fetch { usable };
        }
        Plan::Done(match entry {
            Some(KeyEntry::Usable(key)) => KeyLookup::Key(Arc::clone(key)),
            Some(KeyEntry::Unsupported) => KeyLookup::Unsupported,
            None if keys.is_none() && state.last_failed => KeyLookup::Unavailable,
            None => KeyLookup::Unknown,
        })
    }

    async fn refetch(&self) {
        let started = self.clock.now_millis();
        let parsed = match self.source.fetch().await {
            Ok(body) => KeySet::parse(&body).map_err(|_| "response is not a JWKS"),
            Err(error) => {
                tracing::warn!(%error, "JWKS fetch failed");
                Err("fetch failed")
            }
        };
        let mut state = self.lock_state();
        state.last_attempt_ms = Some(started);
        match parsed {
            Ok(keys) if keys.is_empty() => {
                // Keep what we had: an empty answer must not wipe good keys (it may be a
                // misconfigured edge), and an HS256-only project never needs them.
                tracing::debug!("JWKS has no keys");
                state.last_failed = false;
                state.failures = 0;
            }
            Ok(keys) => {
                let unchanged = state.keys.as_ref().is_some_and(|old| old.same_keys(&keys));
                if !unchanged {
                    state.keys = Some(Arc::new(keys));
                    self.generation.fetch_add(1, Ordering::AcqRel);
                }
                state.fetched_at_ms = started;
                self.fresh_until_ms.store(
                    started.saturating_add(self.ttl_ms.min(self.stale_max_ms)),
                    Ordering::Release,
                );
                state.last_failed = false;
                state.failures = 0;
            }
            Err(why) => {
                tracing::warn!(reason = why, "JWKS unavailable; keeping cached keys if any");
                state.last_failed = true;
                state.failures = state.failures.saturating_add(1);
            }
        }
    }
}
