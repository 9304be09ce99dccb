//! Auth outages, driven by the emulator's fault mode: 503, 500, 429, dropped
//! connections, a slow server, a JWKS outage, a rotated signing key, clock skew.
//!
//! What must hold: a still-valid access token keeps working; an expired one gets a
//! transient error (which the proxy turns into "no session") within the retry budget,
//! with its cookies kept; after a failure, refreshes pause process-wide (1 s, doubling
//! to 30 s, one probe each), so later pages answer at once; one request never tries
//! twice; the session refreshes as soon as Auth is back.
#![allow(clippy::unwrap_used)]

mod common;
mod reliability;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use reliability::{KEY, written};
use supabase_auth_emulator::{Emulator, SigningAlg};
use supabase_ssr::SupabaseAuth;
use supabase_ssr::clock::{Clock, ManualClock, SystemClock};
use supabase_ssr::cookies::CookieJar;

/// The retry budget of these tests (`common::builder` sets 800 ms).
const BUDGET: Duration = Duration::from_millis(800);
/// What a request may take beyond the budget on a busy test machine.
const SLACK: Duration = Duration::from_millis(1200);

/// A client whose clock is `secs` ahead of now, with the emulator's clock moved the same.
fn ahead(emu: &Emulator, secs: i64) -> (SupabaseAuth, ManualClock) {
    emu.advance_clock(Duration::from_secs(secs.unsigned_abs()));
    let clock = ManualClock::new(SystemClock.now_millis() + secs * 1000);
    (builder(emu).clock(clock.clone()).build().unwrap(), clock)
}

/// Switches one kind of outage on.
type Outage = fn(&Emulator);

/// The faults an outage test runs through, each with what switches it on.
fn outages() -> Vec<(&'static str, Outage)> {
    vec![
        ("503", |e| e.faults().fail_all(503).unwrap()),
        ("500", |e| e.faults().fail_all(500).unwrap()),
        ("429", |e| e.faults().fail_all(429).unwrap()),
        ("dropped connections", |e| e.faults().drop_connections(true)),
        ("10 s latency", |e| {
            e.faults().set_latency(Duration::from_secs(10))
        }),
    ]
}

async fn claims_email(auth: &SupabaseAuth, jar: Arc<CookieJar>) -> Option<String> {
    auth.server_client(jar)
        .get_claims()
        .await
        .unwrap()
        .and_then(|c| c.email.clone())
}

#[tokio::test]
async fn valid_tokens_keep_working_while_auth_is_down() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let cookies = signed_in_cookies(&auth).await;
    // One verification fetches the JWKS; after that nothing needs the Auth server.
    let warm = Arc::new(CookieJar::new(cookies.clone()));
    assert_eq!(claims_email(&auth, warm).await.as_deref(), Some(EMAIL));
    for (name, apply) in outages() {
        emu.faults().clear();
        apply(&emu);
        emu.faults().jwks_outage(true);
        emu.clear_requests();
        let jar = Arc::new(CookieJar::new(cookies.clone()));
        let started = Instant::now();
        assert_eq!(
            claims_email(&auth, jar.clone()).await.as_deref(),
            Some(EMAIL),
            "{name}"
        );
        assert!(started.elapsed() < Duration::from_millis(500), "{name}");
        assert!(jar.set_all_calls().is_empty(), "{name}");
        assert!(emu.requests().is_empty(), "{name}: no request reached Auth");
    }
}

#[tokio::test]
async fn expiring_but_valid_tokens_keep_working_when_the_early_refresh_fails() {
    let emu = emulator().await;
    let cookies = signed_in_cookies(&auth(&emu)).await;
    // 50 s before expiry, inside the 90 s refresh margin.
    let (_, clock) = ahead(&emu, 3550);
    for (name, apply) in outages() {
        // A process of its own for each outage: the pause after a failure is
        // process-wide.
        let auth = builder(&emu).clock(clock.clone()).build().unwrap();
        // Warm the JWKS cache with another session, leaving this one's refresh token
        // unused.
        emu.faults().clear();
        let other = Arc::new(CookieJar::new(signed_in_cookies(&auth).await));
        assert_eq!(claims_email(&auth, other).await.as_deref(), Some(EMAIL));
        apply(&emu);
        emu.clear_requests();
        let jar = Arc::new(CookieJar::new(cookies.clone()));
        let started = Instant::now();
        assert_eq!(
            claims_email(&auth, jar.clone()).await.as_deref(),
            Some(EMAIL),
            "{name}"
        );
        let took = started.elapsed();
        assert!(took < BUDGET + SLACK, "{name}: {took:?}");
        assert!(jar.set_all_calls().is_empty(), "{name}: cookies kept");
        // One attempt, no retry: the token is still good.
        assert_eq!(
            count_requests(&emu, "POST", "/token", Some("grant_type=refresh_token")),
            1,
            "{name}"
        );
    }
}

#[tokio::test]
async fn expired_tokens_fail_softly_within_the_budget_and_refresh_when_auth_is_back() {
    let emu = emulator().await;
    let cookies = signed_in_cookies(&auth(&emu)).await;
    // 100 s past expiry.
    let (_, clock) = ahead(&emu, 3700);
    for (name, apply) in outages() {
        // A process of its own for each outage: the pause after a failure is
        // process-wide.
        let auth = builder(&emu).clock(clock.clone()).build().unwrap();
        emu.faults().clear();
        apply(&emu);
        emu.clear_requests();
        let jar = Arc::new(CookieJar::new(cookies.clone()));
        let started = Instant::now();
        let err = auth
            .server_client(jar.clone())
            .get_claims()
            .await
            .unwrap_err();
        let took = started.elapsed();
        assert!(err.is_transient(), "{name}: {err}");
        assert!(took < BUDGET + SLACK, "{name}: {took:?}");
        assert!(jar.set_all_calls().is_empty(), "{name}: cookies kept");
        let attempts = count_requests(&emu, "POST", "/token", Some("grant_type=refresh_token"));
        match name {
            // 429 is not retried (auth-js does not either); the rest are, within budget.
            "429" => {
                assert_eq!(
                    (err.status(), err.code()),
                    (Some(429), Some("over_request_rate_limit"))
                );
                assert_eq!(attempts, 1);
            }
            "10 s latency" => {
                assert!(err.is_timeout(), "{err}");
                assert_eq!(attempts, 1);
            }
            "dropped connections" => {
                assert!(err.is_network() || err.is_timeout(), "{err}");
                assert!(attempts >= 2, "{attempts}");
            }
            _ => {
                assert!(err.is_retryable(), "{err}");
                assert!(attempts >= 2, "{name}: {attempts}");
            }
        }
    }
    // Auth is back: the very next request refreshes and rewrites the cookies.
    emu.faults().clear();
    let auth = builder(&emu).clock(clock.clone()).build().unwrap();
    let jar = Arc::new(CookieJar::new(cookies.clone()));
    assert_eq!(
        claims_email(&auth, jar.clone()).await.as_deref(),
        Some(EMAIL)
    );
    let writes = written(&jar.set_all_calls());
    assert_eq!(writes, vec![vec![(KEY.to_owned(), Some(34_560_000))]]);
    assert_ne!(
        stored_refresh_token(&jar.cookies()),
        stored_refresh_token(&cookies)
    );
}

/// Refresh requests the emulator served since the last `clear_requests`.
fn refreshes(emu: &Emulator) -> usize {
    count_requests(emu, "POST", "/token", Some("grant_type=refresh_token"))
}

#[tokio::test]
async fn while_auth_fails_refreshes_pause_process_wide_and_a_page_tries_at_most_once() {
    let emu = emulator().await;
    let expired = signed_in_cookies(&auth(&emu)).await;
    emu.advance_clock(Duration::from_secs(200));
    let expiring = signed_in_cookies(&auth(&emu)).await;
    // 3,750 s later: the second session is 50 s from expiry (inside the refresh
    // margin), the first expired 150 s ago.
    emu.advance_clock(Duration::from_secs(3550));
    let clock = ManualClock::new(SystemClock.now_millis() + 3_750_000);
    let auth = builder(&emu).clock(clock.clone()).build().unwrap();
    let warm = Arc::new(CookieJar::new(signed_in_cookies(&auth).await));
    assert_eq!(claims_email(&auth, warm).await.as_deref(), Some(EMAIL));
    emu.faults().only_paths(&["/token"]);
    emu.faults().fail_all(503).unwrap();
    emu.clear_requests();

    // The first page: one attempt (the token is still good, so no retry), and however
    // many times it asks, no second one.
    let jar = Arc::new(CookieJar::new(expiring.clone()));
    let client = auth.server_client(jar.clone());
    for _ in 0..3 {
        let claims = client.get_claims().await.unwrap().unwrap();
        assert_eq!(claims.email.as_deref(), Some(EMAIL));
        assert!(client.get_session().await.unwrap().is_some());
    }
    assert_eq!(refreshes(&emu), 1);
    assert!(jar.set_all_calls().is_empty());

    // The next pages, inside the 1 s pause: no attempt at all, and the same answers.
    for _ in 0..5 {
        let jar = Arc::new(CookieJar::new(expiring.clone()));
        assert_eq!(claims_email(&auth, jar).await.as_deref(), Some(EMAIL));
    }
    assert_eq!(refreshes(&emu), 1);

    // An expired session inside the pause: a transient error at once, cookies kept.
    let jar = Arc::new(CookieJar::new(expired.clone()));
    let err = auth
        .server_client(jar.clone())
        .get_claims()
        .await
        .unwrap_err();
    assert!(err.is_transient() && err.is_network(), "{err}");
    assert_eq!(
        err.kind(),
        supabase_ssr::AuthErrorKind::AuthUnavailable,
        "{err}"
    );
    assert!(err.to_string().contains("refreshes are paused"), "{err}");
    assert!(jar.set_all_calls().is_empty());
    assert_eq!(refreshes(&emu), 1);

    // The pause ends: one page probes (once), the pause doubles to 2 s.
    clock.advance_millis(1_000);
    for _ in 0..3 {
        let jar = Arc::new(CookieJar::new(expiring.clone()));
        assert_eq!(claims_email(&auth, jar).await.as_deref(), Some(EMAIL));
    }
    assert_eq!(refreshes(&emu), 2);
    clock.advance_millis(1_999);
    let jar = Arc::new(CookieJar::new(expiring.clone()));
    assert_eq!(claims_email(&auth, jar).await.as_deref(), Some(EMAIL));
    assert_eq!(refreshes(&emu), 2);

    // Auth is back: the probe after the 2 s pause refreshes, and so do later pages.
    emu.faults().clear();
    clock.advance_millis(1);
    let jar = Arc::new(CookieJar::new(expiring.clone()));
    assert_eq!(
        claims_email(&auth, jar.clone()).await.as_deref(),
        Some(EMAIL)
    );
    assert_eq!(refreshes(&emu), 3);
    assert_eq!(
        written(&jar.set_all_calls()),
        vec![vec![(KEY.to_owned(), Some(34_560_000))]]
    );
    let jar = Arc::new(CookieJar::new(expired));
    clock.advance_millis(100_000);
    assert_eq!(
        claims_email(&auth, jar.clone()).await.as_deref(),
        Some(EMAIL)
    );
    assert_eq!(refreshes(&emu), 4);
}

#[tokio::test]
async fn a_short_burst_of_failures_is_absorbed_by_the_retries() {
    let emu = emulator().await;
    let cookies = signed_in_cookies(&auth(&emu)).await;
    let (auth, _clock) = ahead(&emu, 3700);
    emu.faults().only_paths(&["/token"]);
    emu.faults().fail_next(2, 503).unwrap();
    emu.clear_requests();
    let jar = Arc::new(CookieJar::new(cookies));
    assert_eq!(
        claims_email(&auth, jar.clone()).await.as_deref(),
        Some(EMAIL)
    );
    assert_eq!(
        count_requests(&emu, "POST", "/token", Some("grant_type=refresh_token")),
        3
    );
    assert_eq!(emu.faults().counts().failed, 2);
    assert_eq!(written(&jar.set_all_calls()).len(), 1);
}

#[tokio::test]
async fn a_jwks_outage_on_a_cold_start_is_transient_and_keeps_cookies() {
    let emu = emulator().await;
    let cookies = signed_in_cookies(&auth(&emu)).await;
    let clock = ManualClock::new(SystemClock.now_millis());
    let auth = builder(&emu).clock(clock.clone()).build().unwrap();
    emu.faults().jwks_outage(true);
    let jar = Arc::new(CookieJar::new(cookies.clone()));
    let err = auth
        .server_client(jar.clone())
        .get_claims()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "JWKS unavailable: the signing keys (JWKS) are unavailable"
    );
    assert!(err.is_transient());
    assert!(jar.set_all_calls().is_empty());
    // The JWKS is back, but a failed fetch is not retried within the refetch cooldown.
    emu.faults().clear();
    emu.clear_requests();
    let err = auth
        .server_client(CookieJar::new(cookies.clone()))
        .get_claims()
        .await
        .unwrap_err();
    assert!(err.is_transient());
    assert_eq!(
        count_requests(&emu, "GET", "/.well-known/jwks.json", None),
        0
    );
    // After the cooldown (30 s by default), one fetch and the user is back.
    clock.advance_millis(30_000);
    let jar = Arc::new(CookieJar::new(cookies));
    assert_eq!(claims_email(&auth, jar).await.as_deref(), Some(EMAIL));
    assert_eq!(
        count_requests(&emu, "GET", "/.well-known/jwks.json", None),
        1
    );
}

#[tokio::test]
async fn a_key_rotated_during_a_jwks_outage_is_checked_by_the_server_then_picked_up() {
    let emu = emulator().await;
    let clock = ManualClock::new(SystemClock.now_millis());
    let auth = builder(&emu).clock(clock.clone()).build().unwrap();
    let old = signed_in_cookies(&auth).await;
    assert_eq!(
        claims_email(&auth, Arc::new(CookieJar::new(old.clone())))
            .await
            .as_deref(),
        Some(EMAIL)
    );
    let new_kid = emu.rotate_signing_key(SigningAlg::Es256).unwrap();
    let new = signed_in_cookies(&auth).await;
    emu.faults().jwks_outage(true);
    clock.advance_millis(31_000);
    emu.clear_requests();
    // The new kid is unknown and the JWKS cannot be fetched: the server vouches.
    assert_eq!(
        claims_email(&auth, Arc::new(CookieJar::new(new.clone())))
            .await
            .as_deref(),
        Some(EMAIL)
    );
    assert_eq!(
        count_requests(&emu, "GET", "/.well-known/jwks.json", None),
        1
    );
    assert_eq!(count_requests(&emu, "GET", "/user", None), 1);
    // Old tokens still verify with the cached key.
    assert_eq!(
        claims_email(&auth, Arc::new(CookieJar::new(old)))
            .await
            .as_deref(),
        Some(EMAIL)
    );
    // The JWKS is back: after the cooldown, one fetch and the new key is local.
    emu.faults().clear();
    clock.advance_millis(31_000);
    emu.clear_requests();
    for _ in 0..3 {
        assert_eq!(
            claims_email(&auth, Arc::new(CookieJar::new(new.clone())))
                .await
                .as_deref(),
            Some(EMAIL)
        );
    }
    assert_eq!(
        count_requests(&emu, "GET", "/.well-known/jwks.json", None),
        1
    );
    assert_eq!(count_requests(&emu, "GET", "/user", None), 0);
    assert_eq!(emu.signing_kid().as_deref(), Some(new_kid.as_str()));
}

#[tokio::test]
async fn clock_skew_between_app_and_auth() {
    let emu = emulator().await;
    let auth = auth(&emu);
    // Auth ten minutes ahead or behind: hour-long tokens still verify.
    for skew in [600, -600] {
        emu.faults().clock_offset(skew);
        let cookies = signed_in_cookies(&auth).await;
        assert_eq!(
            claims_email(&auth, Arc::new(CookieJar::new(cookies)))
                .await
                .as_deref(),
            Some(EMAIL),
            "{skew}"
        );
    }
    // Auth two hours behind: every token it issues has already expired here. Each
    // request refreshes once (no storm), then refuses the token.
    emu.faults().clock_offset(-7200);
    let cookies = signed_in_cookies(&auth).await;
    emu.clear_requests();
    let jar = Arc::new(CookieJar::new(cookies));
    let err = auth
        .server_client(jar.clone())
        .get_claims()
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "invalid JWT: JWT has expired");
    assert_eq!(
        count_requests(&emu, "POST", "/token", Some("grant_type=refresh_token")),
        1
    );
    // The refreshed (still skewed) session was written; nothing was deleted.
    assert_eq!(
        written(&jar.set_all_calls()),
        vec![vec![(KEY.to_owned(), Some(34_560_000))]]
    );
    // A configured leeway absorbs a skew smaller than it.
    let short = supabase_auth_emulator::EmulatorConfig::default().jwt_exp(Duration::from_secs(10));
    let emu2 = emulator_with(short).await;
    emu2.faults().clock_offset(-30);
    let lenient = builder(&emu2)
        .jwt_leeway(Duration::from_secs(60))
        .refresh_margin(Duration::ZERO)
        .build()
        .unwrap();
    let strict = builder(&emu2)
        .refresh_margin(Duration::ZERO)
        .build()
        .unwrap();
    let cookies = signed_in_cookies(&lenient).await;
    // The stored session also looks expired to both clients, so each refreshes; the
    // refreshed token is 20 s past `exp` here.
    assert_eq!(
        claims_email(&lenient, Arc::new(CookieJar::new(cookies.clone())))
            .await
            .as_deref(),
        Some(EMAIL)
    );
    let err = strict
        .server_client(CookieJar::new(cookies))
        .get_claims()
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "invalid JWT: JWT has expired");
}

#[tokio::test]
async fn an_unreachable_auth_server_with_an_expired_session_keeps_cookies() {
    let emu = emulator().await;
    let cookies = signed_in_cookies(&auth(&emu)).await;
    let url = emu.url();
    emu.shutdown().await;
    let clock = ManualClock::new(SystemClock.now_millis() + 3_700_000);
    let auth = SupabaseAuth::builder(url, "sb_publishable_x")
        .retry_budget(BUDGET)
        .clock(clock)
        .build()
        .unwrap();
    let jar = Arc::new(CookieJar::new(cookies));
    let started = Instant::now();
    let err = auth
        .server_client(jar.clone())
        .get_claims()
        .await
        .unwrap_err();
    assert!(err.is_network() && err.is_transient(), "{err}");
    assert!(started.elapsed() < BUDGET + SLACK);
    assert!(jar.set_all_calls().is_empty());
}

#[tokio::test]
async fn a_request_refreshes_once_even_when_tokens_live_less_than_the_margin() {
    // 60 s tokens under the 90 s refresh margin: every session "expires soon", the
    // refreshed one too.
    let emu = supabase_auth_emulator::EmulatorConfig::default()
        .jwt_exp(Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    emu.create_user(EMAIL, PASSWORD).await.unwrap();
    let auth = auth(&emu);
    let cookies = signed_in_cookies(&auth).await;
    emu.clear_requests();

    let jar = Arc::new(CookieJar::new(cookies));
    let client = auth.server_client(jar.clone());
    for _ in 0..3 {
        assert_eq!(
            client.get_claims().await.unwrap().unwrap().email.as_deref(),
            Some(EMAIL)
        );
        assert!(client.get_session().await.unwrap().is_some());
    }
    assert_eq!(refreshes(&emu), 1);
    assert_eq!(
        written(&jar.set_all_calls()),
        vec![vec![(KEY.to_owned(), Some(34_560_000))]]
    );

    // The next request (another client over the new cookies) refreshes again, once.
    let next = Arc::new(CookieJar::new(jar.cookies()));
    let client = auth.server_client(next.clone());
    client.get_claims().await.unwrap().unwrap();
    client.get_session().await.unwrap().unwrap();
    assert_eq!(refreshes(&emu), 2);
    assert_eq!(written(&next.set_all_calls()).len(), 1);
}
