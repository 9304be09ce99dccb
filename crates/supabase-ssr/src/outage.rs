//! The process-wide pause of refreshes while the Auth server is failing.
//!
//! Without it, every request holding an expiring session would try the refresh again,
//! each paying the retry budget (seconds per page during an outage). After a transient
//! failure, refreshes are paused for a while: requests whose access token is still valid
//! go on with it at once, requests whose token has expired get a transient error at once
//! (signed out for this request, cookies kept). When the pause ends, one request probes
//! (one attempt, no retries); the others stay paused until its answer. Each failed probe doubles the pause, up to
//! 30 s; any answer from the Auth server (even a refusal) ends it.

use std::sync::atomic::{AtomicI64, Ordering};

use crate::AuthError;

/// The first pause, after a failure while Auth was up.
const FIRST_PAUSE_MS: i64 = 1_000;
/// The longest pause.
const MAX_PAUSE_MS: i64 = 30_000;

/// What kind of refresh attempt [`AuthOutage::permit`] allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attempt {
    /// Auth is up: retries within the budget as usual.
    Normal,
    /// The probe at the end of a pause: one attempt.
    Probe,
}

#[derive(Debug, Default)]
pub(crate) struct AuthOutage {
    /// Clock millis until which no refresh is attempted; 0 while Auth is up.
    paused_until: AtomicI64,
    /// The length of the current pause; 0 while Auth is up.
    pause_ms: AtomicI64,
}

impl AuthOutage {
    /// Whether a refresh may be attempted at `now`: `Ok(Attempt::Normal)` while Auth is
    /// up, `Ok(Attempt::Probe)` for the one caller that probes once a pause is over (one
    /// attempt, no retries: Auth was failing a moment ago); otherwise the transient error
    /// the caller returns without a request.
    pub(crate) fn permit(&self, now: i64) -> Result<Attempt, AuthError> {
        let until = self.paused_until.load(Ordering::Acquire);
        if until == 0 {
            return Ok(Attempt::Normal);
        }
        if now >= until {
            // The pause is over: the first caller here probes, and keeps the others
            // paused for one more pause while it does.
            let pause = self.pause_ms.load(Ordering::Acquire).max(FIRST_PAUSE_MS);
            if self
                .paused_until
                .compare_exchange(
                    until,
                    now.saturating_add(pause),
                    Ordering::AcqRel,
                    Ordering::Acquire,
                )
                .is_ok()
            {
                return Ok(Attempt::Probe);
            }
        }
        let left = self
            .paused_until
            .load(Ordering::Acquire)
            .saturating_sub(now);
        Err(AuthError::refresh_paused(left.max(0)))
    }

    /// A refresh attempt failed for a transient reason at `now`.
    pub(crate) fn failed(&self, now: i64) {
        let pause = match self.pause_ms.load(Ordering::Acquire) {
            0 => FIRST_PAUSE_MS,
            previous => previous.saturating_mul(2).min(MAX_PAUSE_MS),
        };
        self.pause_ms.store(pause, Ordering::Release);
        self.paused_until
            .store(now.saturating_add(pause), Ordering::Release);
        tracing::warn!(
            pause_ms = pause,
            "supabase-ssr: the Auth server is failing; refreshes are paused (valid sessions \
             go on, expired ones are signed out for now, cookies are kept)"
        );
    }

    /// The Auth server answered (a session, or a refusal).
    pub(crate) fn answered(&self) {
        if self.paused_until.swap(0, Ordering::AcqRel) != 0 {
            tracing::info!("supabase-ssr: the Auth server answers again; refreshes resume");
        }
        self.pause_ms.store(0, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn pauses_double_to_30_s_one_probe_each_and_any_answer_ends_them() {
        let outage = AuthOutage::default();
        assert_eq!(outage.permit(0).unwrap(), Attempt::Normal);

        outage.failed(10_000);
        // Paused for 1 s: nobody tries; the error says for how long.
        let paused = outage.permit(10_500).unwrap_err();
        assert!(paused.is_transient());
        assert_eq!(
            paused.to_string(),
            "network error talking to the auth server: refreshes are paused after an Auth \
             server failure (500 ms left)"
        );
        // At the end of the pause, one probe; the next caller stays paused.
        assert_eq!(outage.permit(11_000).unwrap(), Attempt::Probe);
        assert!(outage.permit(11_000).is_err());
        // The probe fails: 2 s, then 4, 8, 16, 30, 30.
        let mut now = 11_000;
        for pause in [2_000, 4_000, 8_000, 16_000, 30_000, 30_000] {
            outage.failed(now);
            assert!(outage.permit(now + pause - 1).is_err(), "{pause}");
            assert!(outage.permit(now + pause).is_ok(), "{pause}");
            now += pause;
        }
        // An answer (even a refusal) ends it, and a later failure starts from 1 s.
        outage.answered();
        assert_eq!(outage.permit(now).unwrap(), Attempt::Normal);
        assert_eq!(outage.permit(now).unwrap(), Attempt::Normal);
        outage.failed(now);
        assert!(outage.permit(now + 999).is_err());
        assert!(outage.permit(now + 1_000).is_ok());
    }
}
