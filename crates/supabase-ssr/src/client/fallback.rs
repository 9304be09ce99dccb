//! A bound on concurrent `GET /user` checks of tokens that cannot be verified locally.
//!
//! Anyone can send a token with a made-up `kid`, or an HS256 header: each such token
//! costs the Auth server one `/user` call. Without a bound, a flood of them would be
//! amplified one-for-one onto the Auth server. With it, at most `concurrency` checks run
//! at once; a few more wait (at most `max_wait` each, at most `4 × concurrency` of them),
//! and the rest fail at once with a transient error, which never deletes cookies.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::AuthError;

/// Default number of concurrent `/user` checks per [`crate::SupabaseAuth`].
pub(crate) const DEFAULT_CONCURRENCY: usize = 32;

/// How many callers may wait per allowed check.
const WAITERS_PER_PERMIT: usize = 4;

pub(crate) struct UserCheckLimiter {
    permits: Semaphore,
    concurrency: usize,
    waiting: AtomicUsize,
    max_waiting: usize,
    max_wait: Duration,
}

/// Decrements the waiting count however the wait ends (permit, timeout, cancellation).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl UserCheckLimiter {
    /// `concurrency` is at least 1.
    pub(crate) fn new(concurrency: usize, max_wait: Duration) -> Self {
        let concurrency = concurrency.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            permits: Semaphore::new(concurrency),
            concurrency,
            waiting: AtomicUsize::new(0),
            max_waiting: concurrency.saturating_mul(WAITERS_PER_PERMIT),
            max_wait,
        }
    }

    /// A permit for one `/user` check, or a transient (timeout) error when too many
    /// checks are running and waiting.
    pub(crate) async fn acquire(&self) -> Result<SemaphorePermit<'_>, AuthError> {
        if let Ok(permit) = self.permits.try_acquire() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(self.busy());
        }
        let _waiting = Waiting(&self.waiting);
        match tokio::time::timeout(self.max_wait, self.permits.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            // The semaphore is never closed; treat it like a full queue anyway.
            Ok(Err(_)) | Err(_) => Err(self.busy()),
        }
    }

    fn busy(&self) -> AuthError {
        tracing::warn!(
            concurrency = self.concurrency,
            "supabase-ssr: too many tokens need an Auth server check; refusing this one for now"
        );
        AuthError::timeout(format!(
            "too many tokens waiting for an Auth server check (at most {} at once)",
            self.concurrency
        ))
    }

    #[cfg(test)]
    fn available(&self) -> usize {
        self.permits.available_permits()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn bounded_running_waiting_and_waiting_time() {
        let limiter = UserCheckLimiter::new(2, Duration::from_millis(50));
        let a = limiter.acquire().await.unwrap();
        let _b = limiter.acquire().await.unwrap();
        assert_eq!(limiter.available(), 0);

        // A waiter gets the permit once one is released.
        let waiter = limiter.acquire();
        drop(a);
        let _c = waiter.await.unwrap();

        // With none released, a waiter fails after the wait bound, as a transient error.
        let started = tokio::time::Instant::now();
        let err = limiter.acquire().await.unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert!(err.is_timeout() && err.is_transient(), "{err}");
        assert_eq!(limiter.waiting.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn beyond_the_waiting_room_callers_fail_at_once() {
        let limiter = std::sync::Arc::new(UserCheckLimiter::new(1, Duration::from_secs(5)));
        let _held = limiter.acquire().await.unwrap();
        let mut waiters = Vec::new();
        for _ in 0..WAITERS_PER_PERMIT {
            let l = limiter.clone();
            waiters.push(tokio::spawn(async move { l.acquire().await.map(|_| ()) }));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(limiter.waiting.load(Ordering::SeqCst), WAITERS_PER_PERMIT);
        let started = tokio::time::Instant::now();
        let err = limiter.acquire().await.unwrap_err();
        assert!(started.elapsed() < Duration::from_millis(100));
        assert!(err.is_transient());
        for w in waiters {
            w.abort();
        }
    }

    #[test]
    fn zero_concurrency_means_one() {
        let limiter = UserCheckLimiter::new(0, Duration::ZERO);
        assert_eq!(limiter.available(), 1);
    }
}
