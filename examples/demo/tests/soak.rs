//! Soak: many virtual users on the demo app, each holding its own session through many
//! refreshes (3 s access tokens), while random Auth faults switch on and off and an
//! attacker sends forged sessions. Nothing may be lost:
//!
//! - no 5xx from the app,
//! - no session lost (a session cookie deleted, or a user not signed in once Auth is
//!   healthy again),
//! - no forged request accepted.
//!
//! The test command runs a 10 s form. The long form, whose figures are in
//! `RELIABILITY.md`:
//!
//! ```sh
//! SOAK_SECS=60 SOAK_VUS=32 cargo test -p demo --release --test soak -- --nocapture
//! ```
//!
//! `SOAK_SEED` fixes the random faults and think times (the seed is printed).
#![allow(clippy::unwrap_used)]

mod load;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use demo::{Database, DemoConfig};
use load::*;
use reqwest::StatusCode;
use supabase_auth_emulator::{Emulator, SigningAlg};

const PASSWORD: &str = "soak-password-1";
const TOKEN_LIFETIME: Duration = Duration::from_secs(3);
const REFRESH_MARGIN: Duration = Duration::from_secs(1);

#[derive(Default)]
struct Stats {
    requests: AtomicU64,
    ok: AtomicU64,
    signed_out_pages: AtomicU64,
    refreshes: AtomicU64,
    server_errors: AtomicU64,
    other_statuses: AtomicU64,
    sessions_lost: AtomicU64,
    forged: AtomicU64,
    forged_accepted: AtomicU64,
    fault_phases: AtomicU64,
    key_rotations: AtomicU64,
    injected_failures: AtomicU64,
    injected_drops: AtomicU64,
    injected_delays: AtomicU64,
    injected_jwks_failures: AtomicU64,
}

fn add(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

fn read(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

impl Stats {
    /// Counts one app response to a virtual user.
    fn record(&self, status: StatusCode, write: SessionWrite) -> bool {
        add(&self.requests);
        match status.as_u16() {
            200 => add(&self.ok),
            // Verified's rejection: signed out for this request (an outage, or an
            // expired token that could not be refreshed yet).
            303 => add(&self.signed_out_pages),
            500..=599 => add(&self.server_errors),
            _ => add(&self.other_statuses),
        }
        if write.set {
            add(&self.refreshes);
        }
        if write.lost() {
            add(&self.sessions_lost);
        }
        write.lost()
    }
}

/// One virtual user: signs in, then browses until `deadline` with think times,
/// sometimes two requests at once (as a browser loading a page and a fetch).
async fn virtual_user(
    base: String,
    email: String,
    stats: Arc<Stats>,
    deadline: Instant,
    seed: u64,
) -> Browser {
    let http = http_client();
    let mut rng = Rng::new(seed);
    let mut browser = Browser::default();
    sign_in(&http, &mut browser, &base, &email, PASSWORD).await;
    let (res, _) = get(&http, &mut browser, &format!("{base}/dashboard")).await;
    assert_eq!(res.status(), StatusCode::OK, "{email}: the first dashboard");
    let mut lost = false;
    while Instant::now() < deadline && !lost {
        let path = if rng.chance(75) { "/dashboard" } else { "/" };
        if rng.chance(10) {
            let (mut a, mut b) = (browser.clone(), browser.clone());
            let url = format!("{base}{path}");
            let (ra, rb) = tokio::join!(get(&http, &mut a, &url), get(&http, &mut b, &url));
            lost |= stats.record(ra.0.status(), ra.1);
            lost |= stats.record(rb.0.status(), rb.1);
            // The browser keeps whichever response it processed last.
            browser = b;
        } else {
            let (res, write) = get(&http, &mut browser, &format!("{base}{path}")).await;
            lost |= stats.record(res.status(), write);
        }
        tokio::time::sleep(Duration::from_millis(rng.range(20, 120))).await;
    }
    browser
}

/// Switches a random fault on for a while, then everything off for a while, until
/// `deadline`. Signing keys are rotated at most twice.
async fn chaos(emu: Emulator, stats: Arc<Stats>, deadline: Instant, seed: u64) {
    let mut rng = Rng::new(seed);
    let faults = emu.faults();
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(rng.range(500, 1500))).await;
        match rng.range(0, 9) {
            0 => faults.fail_all(503).unwrap(),
            1 => faults.fail_all(429).unwrap(),
            2 => faults.fail_ratio(0.5, 500).unwrap(),
            3 => faults.drop_connections(true),
            4 => faults.set_latency(Duration::from_millis(400)),
            5 => faults.jwks_outage(true),
            6 => faults.clock_offset(if rng.chance(50) { 2 } else { -1 }),
            7 => {
                faults.only_paths(&["/token"]);
                faults.fail_all(503).unwrap();
            }
            _ if read(&stats.key_rotations) < 2 => {
                let worker = emu.clone();
                tokio::task::spawn_blocking(move || worker.rotate_signing_key(SigningAlg::Es256))
                    .await
                    .unwrap()
                    .unwrap();
                add(&stats.key_rotations);
                continue;
            }
            _ => faults.fail_all(503).unwrap(),
        }
        add(&stats.fault_phases);
        tokio::time::sleep(Duration::from_millis(rng.range(400, 1500))).await;
        tally(&faults, &stats);
    }
    tally(&faults, &stats);
}

/// Adds the faults injected so far to the totals, then switches every fault off.
fn tally(faults: &supabase_auth_emulator::Faults, stats: &Stats) {
    let c = faults.counts();
    stats
        .injected_failures
        .fetch_add(c.failed, Ordering::Relaxed);
    stats.injected_drops.fetch_add(c.dropped, Ordering::Relaxed);
    stats
        .injected_delays
        .fetch_add(c.delayed, Ordering::Relaxed);
    stats
        .injected_jwks_failures
        .fetch_add(c.jwks_failed, Ordering::Relaxed);
    faults.clear();
}

/// Sends forged sessions (tampered claims, `alg: none`, an HS256 header, a cut
/// signature) to the protected page until `deadline`.
async fn attacker(base: String, stats: Arc<Stats>, deadline: Instant) {
    let http = http_client();
    let mut own = Browser::default();
    sign_in(&http, &mut own, &base, "mallory@soak.test", PASSWORD).await;
    let session = own.session().unwrap();
    let token = session["access_token"].as_str().unwrap();
    let refresh = session["refresh_token"].as_str().unwrap();
    let cookies: Vec<String> = forgeries(token)
        .iter()
        .map(|forged| forged_cookie(forged, refresh))
        .collect();
    let mut i = 0;
    while Instant::now() < deadline {
        let res = http
            .get(format!("{base}/dashboard"))
            .header("cookie", &cookies[i % cookies.len()])
            .send()
            .await
            .unwrap();
        add(&stats.forged);
        match res.status().as_u16() {
            200 => add(&stats.forged_accepted),
            500..=599 => add(&stats.server_errors),
            _ => {}
        }
        i += 1;
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_with_random_auth_faults() {
    let secs = env_u64("SOAK_SECS", 10);
    let vus = env_u64("SOAK_VUS", 16);
    let seed = env_u64(
        "SOAK_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    );
    let app = demo::run(
        DemoConfig::emulator()
            .port(0)
            .jwt_exp(TOKEN_LIFETIME)
            .refresh_margin(REFRESH_MARGIN)
            .autoconfirm(true)
            // Sessions only: the notes database is not under test here.
            .database(Database::Off),
    )
    .await
    .unwrap();
    let emu = app.emulator().unwrap().clone();
    let base = app.url().to_owned();
    for i in 0..vus {
        emu.create_user(&format!("vu{i}@soak.test"), PASSWORD)
            .await
            .unwrap();
    }
    emu.create_user("mallory@soak.test", PASSWORD)
        .await
        .unwrap();

    let stats = Arc::new(Stats::default());
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let users: Vec<_> = (0..vus)
        .map(|i| {
            tokio::spawn(virtual_user(
                base.clone(),
                format!("vu{i}@soak.test"),
                stats.clone(),
                deadline,
                seed.wrapping_add(i + 1),
            ))
        })
        .collect();
    let attack = tokio::spawn(attacker(base.clone(), stats.clone(), deadline));
    let chaos = tokio::spawn(chaos(emu.clone(), stats.clone(), deadline, seed));
    let mut browsers = Vec::new();
    for u in users {
        browsers.push(u.await.unwrap());
    }
    attack.await.unwrap();
    chaos.await.unwrap();

    // Auth is healthy again: every user's very next request must find them signed in,
    // refreshing if their token expired meanwhile.
    emu.faults().clear();
    let http = http_client();
    let mut not_recovered = 0;
    for browser in &mut browsers {
        let (res, write) = get(&http, browser, &format!("{base}/dashboard")).await;
        if res.status() != StatusCode::OK || write.lost() {
            not_recovered += 1;
        }
        stats.record(res.status(), write);
    }
    stats
        .sessions_lost
        .fetch_add(not_recovered, Ordering::Relaxed);

    let refresh_calls = emu
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/token") && r.query.contains("refresh_token"))
        .count();
    println!(
        "soak report: secs={secs} vus={vus} seed={seed} requests={} ok={} signed_out_pages={} \
         refreshes={} refresh_calls={refresh_calls} 5xx={} other={} sessions_lost={} \
         forged={} forged_accepted={} fault_phases={} key_rotations={} \
         injected(failed/dropped/delayed/jwks)={}/{}/{}/{} elapsed={:.1}s",
        read(&stats.requests) + read(&stats.forged),
        read(&stats.ok),
        read(&stats.signed_out_pages),
        read(&stats.refreshes),
        read(&stats.server_errors),
        read(&stats.other_statuses),
        read(&stats.sessions_lost),
        read(&stats.forged),
        read(&stats.forged_accepted),
        read(&stats.fault_phases),
        read(&stats.key_rotations),
        read(&stats.injected_failures),
        read(&stats.injected_drops),
        read(&stats.injected_delays),
        read(&stats.injected_jwks_failures),
        started.elapsed().as_secs_f64(),
    );
    assert_eq!(read(&stats.server_errors), 0, "5xx answers");
    assert_eq!(read(&stats.sessions_lost), 0, "sessions lost");
    assert_eq!(read(&stats.forged_accepted), 0, "forged requests accepted");
    assert_eq!(read(&stats.other_statuses), 0, "unexpected statuses");
    assert!(read(&stats.forged) > 0);
    assert!(
        read(&stats.refreshes) >= vus,
        "every user should have refreshed at least once"
    );
    app.shutdown().await;
}
