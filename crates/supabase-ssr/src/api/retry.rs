//! The refresh call, retried like auth-js's `_refreshAccessToken` but within a budget.
//!
//! auth-js retries a retryable failure after sleeping `200 ms · 2^(n-1)` before attempt
//! `n`, for as long as the next attempt can start within 30 s, so one refresh can
//! block a server request for about 25 s during an outage. Here the whole call, sleeps
//! included, is bounded by `retry_budget`: every attempt gets only the time left, and
//! no sleep is started that would end past the deadline.

use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;

use super::AuthApi;
use super::request::Call;
use super::types::{JsonObject, has_session};
use crate::AuthError;

/// First back-off; it doubles before every further attempt.
const BASE_BACKOFF: Duration = Duration::from_millis(200);

/// The sleep before attempt `attempt` (1-based among retries): 200, 400, 800 ms, ...
fn backoff(attempt: u32) -> Duration {
    BASE_BACKOFF.saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
}

impl AuthApi {
    /// `POST /token?grant_type=refresh_token` with body `{"refresh_token": ...}`.
    ///
    /// With `retry`, retryable failures are retried within the retry budget. When the
    /// budget cannot fit another attempt the last failure is returned; when it runs out
    /// during an attempt, a timeout. Without, one attempt (still bounded by the budget):
    /// for a session whose access token is still valid, which need not wait. An answer
    /// without a session is a missing session, as in auth-js.
    pub(crate) async fn refresh(
        &self,
        refresh_token: &str,
        retry: bool,
    ) -> Result<JsonObject, AuthError> {
        let call = Call::post("/token?grant_type=refresh_token")
            .json(json!({ "refresh_token": refresh_token }));
        let now = Instant::now();
        // A budget too large to add is no budget at all; a year stands in for it.
        let deadline = now
            .checked_add(self.inner.retry_budget)
            .unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600));
        let mut attempt: u32 = 0;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(AuthError::timeout("refresh retry budget exhausted"));
            }
            let timeout = left.min(self.inner.request_timeout);
            let result = self
                .send(&call, timeout)
                .await
                .and_then(|r| r.json_object());
            match result {
                Ok(body) if has_session(&body) => return Ok(body),
                Ok(_) => return Err(AuthError::session_missing()),
                Err(err)
                    if retry && err.is_retryable() && fits_in_budget(deadline, attempt + 1) =>
                {
                    attempt += 1;
                    tracing::debug!(
                        attempt,
                        status = err.status(),
                        "retryable refresh failure; retrying"
                    );
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(err) => return Err(err),
            }
        }
    }
}

/// Whether the sleep before `next_attempt` ends before the deadline, leaving time for
/// the attempt itself.
fn fits_in_budget(deadline: Instant, next_attempt: u32) -> bool {
    Instant::now()
        .checked_add(backoff(next_attempt))
        .is_some_and(|wake| wake < deadline)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_200_ms() {
        let sleeps: Vec<u128> = (1..=5).map(|n| backoff(n).as_millis()).collect();
        assert_eq!(sleeps, [200, 400, 800, 1600, 3200]);
        // Saturates instead of overflowing.
        assert!(backoff(64) > Duration::from_secs(365 * 24 * 3600));
    }
}
