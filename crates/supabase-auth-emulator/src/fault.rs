//! Fault mode: an Auth server that is slow, failing, unreachable or skewed, switched at
//! run time by tests (through [`Faults`], from [`crate::Emulator::faults`]) or over HTTP
//! (`/emulator/v1/faults`, secret key only).
//!
//! Every fault acts on the Auth API (`/auth/v1/...`) only, never on the emulator's own
//! routes, so whoever switched a fault on can always switch it off. All of them are off
//! by default, every setting is capped ([`MAX_LATENCY`], [`MAX_FAIL_COUNT`],
//! [`MAX_CLOCK_OFFSET`]), and they switch themselves off [`FAULT_LIFETIME`] after the
//! last change, so a forgotten fault cannot outlive a test run.
//!
//! The one hook is the outermost middleware (`routes::middleware::record`): a request
//! is recorded first, then [`FaultState::intercept`] decides whether it is delayed,
//! answered with an injected error, or has its connection dropped.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes, HttpBody};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rand::Rng as _;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{EmulatorError, ErrorKind};
use crate::routes::error::ApiError;
use crate::state::AppState;

/// The longest injected latency; longer requests are clamped to it.
pub const MAX_LATENCY: Duration = Duration::from_secs(30);
/// The most answers [`Faults::fail_next`] can fail.
pub const MAX_FAIL_COUNT: u32 = 100_000;
/// The largest clock offset, either way.
pub const MAX_CLOCK_OFFSET: Duration = Duration::from_secs(24 * 60 * 60);
/// Faults switch themselves off this long after the last change.
pub const FAULT_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// Header on every injected answer, naming the fault, so tests can tell it from a
/// real one.
pub const FAULT_HEADER: &str = "x-emulator-fault";

const AUTH_PREFIX: &str = "/auth/v1";
const JWKS_PATH: &str = "/.well-known/jwks.json";

/// How injected failures are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
enum FailMode {
    /// The next `n` matching requests, then off.
    Next(u32),
    /// Every matching request.
    All,
    /// Each matching request with this probability.
    Ratio(f64),
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
struct Failure {
    status: u16,
    mode: FailMode,
}

/// The current settings.
#[derive(Debug, Clone, Default, PartialEq)]
struct Settings {
    latency: Duration,
    failure: Option<Failure>,
    drop_connections: bool,
    jwks_outage: bool,
    /// Auth paths (after `/auth/v1`) latency, failures and drops apply to; empty: all.
    paths: Vec<String>,
    /// When anything last changed (`None` while everything is off).
    changed_at: Option<Instant>,
}

impl Settings {
    fn is_off(&self) -> bool {
        self.latency.is_zero()
            && self.failure.is_none()
            && !self.drop_connections
            && !self.jwks_outage
    }

    /// Whether the last change is older than [`FAULT_LIFETIME`].
    fn expired(&self, now: Instant) -> bool {
        self.changed_at
            .is_some_and(|at| now.saturating_duration_since(at) >= FAULT_LIFETIME)
    }

    fn applies_to(&self, auth_path: &str) -> bool {
        self.paths.is_empty() || self.paths.iter().any(|p| p == auth_path)
    }
}

/// Counts of injected faults since start (or the last [`Faults::clear`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FaultCounts {
    /// Requests that were delayed.
    pub delayed: u64,
    /// Requests answered with an injected error status.
    pub failed: u64,
    /// Requests whose connection was dropped without an answer.
    pub dropped: u64,
    /// JWKS requests answered 503 by the JWKS outage.
    pub jwks_failed: u64,
}

#[derive(Debug, Default)]
struct Counters {
    delayed: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
    jwks_failed: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> FaultCounts {
        FaultCounts {
            delayed: self.delayed.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            jwks_failed: self.jwks_failed.load(Ordering::Relaxed),
        }
    }

    fn reset(&self) {
        for c in [
            &self.delayed,
            &self.failed,
            &self.dropped,
            &self.jwks_failed,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }
}

/// The fault settings of one emulator, held in its state.
#[derive(Debug, Default)]
pub(crate) struct FaultState {
    settings: Mutex<Settings>,
    counters: Counters,
}

/// What to do with one request.
enum Verdict {
    Fail(u16),
    Drop,
    JwksOutage,
}

impl FaultState {
    fn lock(&self) -> MutexGuard<'_, Settings> {
        // Settings are plain data replaced field by field; a panic elsewhere cannot
        // leave them unusable.
        self.settings.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Delays, fails or drops the request when a fault says so; `None` lets it through.
    /// `v2024`: the request asked for API version 2024-01-01 error bodies.
    pub(crate) async fn intercept(st: &AppState, path: &str, v2024: bool) -> Option<Response> {
        let auth_path = path.strip_prefix(AUTH_PREFIX)?;
        if !(auth_path.is_empty() || auth_path.starts_with('/')) {
            return None;
        }
        let faults = &st.faults;
        let (latency, verdict) = {
            let mut s = faults.lock();
            if s.expired(Instant::now()) {
                tracing::info!("fault mode expired; every fault is off");
                *s = Settings::default();
                st.clock.set_fault_offset_micros(0);
                return None;
            }
            if s.is_off() {
                return None;
            }
            let applies = s.applies_to(auth_path);
            let latency = if applies { s.latency } else { Duration::ZERO };
            let verdict = if s.jwks_outage && auth_path == JWKS_PATH {
                Some(Verdict::JwksOutage)
            } else if !applies {
                None
            } else if s.drop_connections {
                Some(Verdict::Drop)
            } else {
                take_failure(&mut s).map(Verdict::Fail)
            };
            (latency, verdict)
        };
        if !latency.is_zero() {
            faults.counters.delayed.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(latency).await;
        }
        let counters = &faults.counters;
        Some(match verdict? {
            Verdict::JwksOutage => {
                counters.jwks_failed.fetch_add(1, Ordering::Relaxed);
                gateway_answer(503, "jwks_outage")
            }
            Verdict::Drop => {
                counters.dropped.fetch_add(1, Ordering::Relaxed);
                dropped_connection()
            }
            Verdict::Fail(status) => {
                counters.failed.fetch_add(1, Ordering::Relaxed);
                failure_answer(status, v2024)
            }
        })
    }
}

/// Whether this request fails, consuming one of a `fail_next` count.
fn take_failure(s: &mut Settings) -> Option<u16> {
    let failure = s.failure?;
    match failure.mode {
        FailMode::All => Some(failure.status),
        FailMode::Ratio(p) => rand::rng().random_bool(p).then_some(failure.status),
        FailMode::Next(n) => {
            s.failure = n
                .checked_sub(1)
                .filter(|left| *left > 0)
                .map(|left| Failure {
                    mode: FailMode::Next(left),
                    ..failure
                });
            Some(failure.status)
        }
    }
}

/// 429 and 500 come from GoTrue itself (its error shape); 502-504 from the gateway in
/// front of it, which answers with its own small body.
fn failure_answer(status: u16, v2024: bool) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let api_error = match status {
        429 => Some(ApiError::new(
            code,
            "over_request_rate_limit",
            "Request rate limit reached",
        )),
        500 => Some(ApiError::internal()),
        _ => None,
    };
    let Some(err) = api_error else {
        return gateway_answer(status, "status");
    };
    let mut res = if v2024 {
        let mut res = (code, axum::Json(err.v2024_body())).into_response();
        res.headers_mut().insert(
            "x-supabase-api-version",
            HeaderValue::from_static("2024-01-01"),
        );
        res
    } else {
        (code, axum::Json(err.initial_body())).into_response()
    };
    if let Ok(v) = HeaderValue::from_str(&err.code) {
        res.headers_mut().insert("x-sb-error-code", v);
    }
    res.headers_mut()
        .insert(FAULT_HEADER, HeaderValue::from_static("status"));
    if status == 429 {
        res.headers_mut()
            .insert("retry-after", HeaderValue::from_static("1"));
    }
    res
}

fn gateway_answer(status: u16, fault: &'static str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let message = match status {
        502 => "An invalid response was received from the upstream server",
        504 => "The upstream server is timing out",
        _ => "Service Unavailable",
    };
    let mut res = (code, axum::Json(json!({ "message": message }))).into_response();
    res.headers_mut()
        .insert(FAULT_HEADER, HeaderValue::from_static(fault));
    res
}

/// A body that fails on its first read: hyper then closes the connection without a
/// complete answer, which a client sees as a dropped connection.
struct BrokenBody;

impl HttpBody for BrokenBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        std::task::Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "emulated dropped connection",
        ))))
    }
}

fn dropped_connection() -> Response {
    let mut res = Response::new(Body::new(BrokenBody));
    // No length: hyper cannot finish the message, so it has to cut the connection.
    *res.status_mut() = StatusCode::OK;
    res
}

/// A handle on an emulator's fault mode. Cheap to clone; every clone acts on the same
/// emulator.
///
/// ```no_run
/// # async fn demo() -> Result<(), supabase_auth_emulator::EmulatorError> {
/// use std::time::Duration;
/// let emu = supabase_auth_emulator::EmulatorConfig::default().start().await?;
/// let faults = emu.faults();
/// faults.set_latency(Duration::from_millis(200));
/// faults.only_paths(&["/token"]);
/// faults.fail_next(3, 503)?; // the next three refreshes get 503
/// // ...
/// faults.clear();
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Faults {
    state: Arc<AppState>,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faults")
            .field("settings", &self.settings())
            .finish()
    }
}

/// The fault settings as they are now; also the JSON of `GET /emulator/v1/faults`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FaultSettings {
    /// Added to every affected request, in milliseconds.
    pub latency_ms: u64,
    /// The injected status, when failures are on.
    pub fail_status: Option<u16>,
    /// `next`, `all` or `ratio`, when failures are on.
    pub fail_mode: Option<&'static str>,
    /// Failures left for `next`.
    pub fail_remaining: Option<u32>,
    /// The probability for `ratio`.
    pub fail_ratio: Option<f64>,
    /// Whether affected requests get their connection dropped.
    pub drop_connections: bool,
    /// Whether the JWKS answers 503.
    pub jwks_outage: bool,
    /// The fault clock offset, in seconds (negative: the emulator runs behind).
    pub clock_offset_secs: i64,
    /// Auth paths latency, failures and drops are limited to; empty: all.
    pub paths: Vec<String>,
    /// Injected faults so far.
    pub counts: FaultCounts,
}

fn invalid(message: impl Into<String>) -> EmulatorError {
    EmulatorError::new(ErrorKind::InvalidInput, message)
}

fn check_status(status: u16) -> Result<(), EmulatorError> {
    if status == 429 || (500..=599).contains(&status) {
        Ok(())
    } else {
        Err(invalid(format!(
            "an injected failure must be 429 or 5xx, not {status}"
        )))
    }
}

impl Faults {
    pub(crate) fn new(state: Arc<AppState>) -> Self {
        Self { state }
    }

    fn update(&self, change: impl FnOnce(&mut Settings)) {
        let mut s = self.state.faults.lock();
        change(&mut s);
        s.changed_at = Some(Instant::now());
        tracing::info!(settings = ?*s, "fault mode changed");
    }

    /// Delays every affected request by `latency` (capped at [`MAX_LATENCY`]); zero
    /// turns it off.
    pub fn set_latency(&self, latency: Duration) {
        self.update(|s| s.latency = latency.min(MAX_LATENCY));
    }

    /// Answers the next `n` affected requests (at most [`MAX_FAIL_COUNT`]) with
    /// `status` (429 or 5xx), then stops failing.
    pub fn fail_next(&self, n: u32, status: u16) -> Result<(), EmulatorError> {
        check_status(status)?;
        let n = n.min(MAX_FAIL_COUNT);
        self.update(|s| {
            s.failure = (n > 0).then_some(Failure {
                status,
                mode: FailMode::Next(n),
            });
        });
        Ok(())
    }

    /// Answers every affected request with `status` (429 or 5xx) until cleared.
    pub fn fail_all(&self, status: u16) -> Result<(), EmulatorError> {
        check_status(status)?;
        self.update(|s| {
            s.failure = Some(Failure {
                status,
                mode: FailMode::All,
            });
        });
        Ok(())
    }

    /// Answers each affected request with `status` (429 or 5xx) with probability
    /// `ratio` (0 to 1).
    pub fn fail_ratio(&self, ratio: f64, status: u16) -> Result<(), EmulatorError> {
        check_status(status)?;
        if !(0.0..=1.0).contains(&ratio) {
            return Err(invalid("the failure ratio must be between 0 and 1"));
        }
        self.update(|s| {
            s.failure = (ratio > 0.0).then_some(Failure {
                status,
                mode: FailMode::Ratio(ratio),
            });
        });
        Ok(())
    }

    /// Stops injecting failures (latency, drops and the rest stay).
    pub fn stop_failing(&self) {
        self.update(|s| s.failure = None);
    }

    /// While on, affected requests are read and their connection closed without an
    /// answer.
    pub fn drop_connections(&self, on: bool) {
        self.update(|s| s.drop_connections = on);
    }

    /// While on, `GET /auth/v1/.well-known/jwks.json` answers 503 (whatever
    /// [`Self::only_paths`] says).
    pub fn jwks_outage(&self, on: bool) {
        self.update(|s| s.jwks_outage = on);
    }

    /// Skews the emulator's clock by `secs` seconds (negative: behind), capped at
    /// [`MAX_CLOCK_OFFSET`]. Tokens it issues then carry skewed `iat`/`exp`, and its
    /// own expiry checks use the skewed time. Separate from
    /// [`crate::Emulator::advance_clock`], which [`Self::clear`] leaves alone.
    pub fn clock_offset(&self, secs: i64) {
        let cap = i64::try_from(MAX_CLOCK_OFFSET.as_secs()).unwrap_or(i64::MAX);
        let secs = secs.clamp(-cap, cap);
        self.update(|_| {});
        self.state
            .clock
            .set_fault_offset_micros(secs.saturating_mul(1_000_000));
    }

    /// Limits latency, failures and drops to these Auth paths (as after `/auth/v1`:
    /// `/token`, `/user`, `/.well-known/jwks.json`); an empty list means every path.
    pub fn only_paths(&self, paths: &[&str]) {
        let paths: Vec<String> = paths.iter().map(|p| (*p).to_owned()).collect();
        self.update(|s| s.paths = paths);
    }

    /// Switches every fault off and resets the counts.
    pub fn clear(&self) {
        *self.state.faults.lock() = Settings::default();
        self.state.clock.set_fault_offset_micros(0);
        self.state.faults.counters.reset();
        tracing::info!("fault mode cleared");
    }

    /// Injected faults so far.
    pub fn counts(&self) -> FaultCounts {
        self.state.faults.counters.snapshot()
    }

    /// The settings now.
    pub fn settings(&self) -> FaultSettings {
        let s = self.state.faults.lock().clone();
        let (fail_mode, fail_remaining, fail_ratio) = match s.failure.map(|f| f.mode) {
            None => (None, None, None),
            Some(FailMode::All) => (Some("all"), None, None),
            Some(FailMode::Next(n)) => (Some("next"), Some(n), None),
            Some(FailMode::Ratio(r)) => (Some("ratio"), None, Some(r)),
        };
        FaultSettings {
            latency_ms: u64::try_from(s.latency.as_millis()).unwrap_or(u64::MAX),
            fail_status: s.failure.map(|f| f.status),
            fail_mode,
            fail_remaining,
            fail_ratio,
            drop_connections: s.drop_connections,
            jwks_outage: s.jwks_outage,
            clock_offset_secs: self.state.clock.fault_offset_micros().div_euclid(1_000_000),
            paths: s.paths,
            counts: self.counts(),
        }
    }

    /// Applies a change sent over HTTP; fields left out are unchanged.
    pub(crate) fn apply(&self, change: FaultChange) -> Result<(), EmulatorError> {
        if let Some(fail) = &change.fail {
            check_status(fail.status)?;
            if fail.ratio.is_some_and(|r| !(0.0..=1.0).contains(&r)) {
                return Err(invalid("the failure ratio must be between 0 and 1"));
            }
        }
        if let Some(ms) = change.latency_ms {
            self.set_latency(Duration::from_millis(ms));
        }
        if let Some(fail) = change.fail {
            match (fail.next, fail.ratio) {
                (Some(n), _) => self.fail_next(n, fail.status)?,
                (None, Some(r)) => self.fail_ratio(r, fail.status)?,
                (None, None) => self.fail_all(fail.status)?,
            }
        }
        if change.stop_failing == Some(true) {
            self.stop_failing();
        }
        if let Some(on) = change.drop_connections {
            self.drop_connections(on);
        }
        if let Some(on) = change.jwks_outage {
            self.jwks_outage(on);
        }
        if let Some(secs) = change.clock_offset_secs {
            self.clock_offset(secs);
        }
        if let Some(paths) = change.paths {
            let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
            self.only_paths(&refs);
        }
        Ok(())
    }
}

/// Body of `POST /emulator/v1/faults`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultChange {
    #[serde(default)]
    latency_ms: Option<u64>,
    #[serde(default)]
    fail: Option<FailChange>,
    #[serde(default)]
    stop_failing: Option<bool>,
    #[serde(default)]
    drop_connections: Option<bool>,
    #[serde(default)]
    jwks_outage: Option<bool>,
    #[serde(default)]
    clock_offset_secs: Option<i64>,
    #[serde(default)]
    paths: Option<Vec<String>>,
}

/// `{"status": 503}` fails everything; with `"next": n` the next n; with `"ratio": p`
/// each with probability p.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FailChange {
    status: u16,
    #[serde(default)]
    next: Option<u32>,
    #[serde(default)]
    ratio: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_next_counts_down_then_stops() {
        let mut s = Settings {
            failure: Some(Failure {
                status: 503,
                mode: FailMode::Next(2),
            }),
            ..Settings::default()
        };
        assert_eq!(take_failure(&mut s), Some(503));
        assert_eq!(take_failure(&mut s), Some(503));
        assert_eq!(take_failure(&mut s), None);
        assert!(s.is_off());
    }

    #[test]
    fn ratio_extremes_are_exact() {
        let mut never = Settings {
            failure: Some(Failure {
                status: 500,
                mode: FailMode::Ratio(0.0),
            }),
            ..Settings::default()
        };
        let mut always = Settings {
            failure: Some(Failure {
                status: 429,
                mode: FailMode::Ratio(1.0),
            }),
            ..Settings::default()
        };
        for _ in 0..100 {
            assert_eq!(take_failure(&mut never), None);
            assert_eq!(take_failure(&mut always), Some(429));
        }
    }

    #[test]
    fn only_429_and_5xx_can_be_injected() {
        assert!(check_status(429).is_ok());
        assert!(check_status(500).is_ok());
        assert!(check_status(599).is_ok());
        for bad in [0, 200, 400, 404, 428, 600] {
            assert!(check_status(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn faults_expire_after_their_lifetime() {
        let now = Instant::now();
        let mut s = Settings {
            jwks_outage: true,
            changed_at: Some(now),
            ..Settings::default()
        };
        assert!(!s.expired(now));
        assert!(!s.expired(now + FAULT_LIFETIME - Duration::from_millis(1)));
        assert!(s.expired(now + FAULT_LIFETIME));
        s.changed_at = None;
        assert!(!s.expired(now + FAULT_LIFETIME * 2));
    }

    #[test]
    fn path_filter() {
        let mut s = Settings::default();
        assert!(s.applies_to("/token"));
        s.paths = vec!["/token".into()];
        assert!(s.applies_to("/token"));
        assert!(!s.applies_to("/user"));
    }
}
