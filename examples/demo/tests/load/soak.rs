//! The parts of a soak, shared by `soak.rs` (one app) and `balancer.rs` (three app
//! processes behind HAProxy): virtual users, random Auth faults switched on and off, an
//! attacker sending forged sessions, and the counts they keep.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use supabase_auth_emulator::{Emulator, Faults, SigningAlg};
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::{Browser, SessionWrite, forged_cookie, forgeries, get, http_client, sign_in};

/// The password of every soak user.
pub(crate) const PASSWORD: &str = "soak-password-1";
/// The attacker's own (real) account, whose token it tampers with.
pub(crate) const ATTACKER: &str = "mallory@soak.test";

/// The email of virtual user `i`.
pub(crate) fn user_email(i: u64) -> String {
    format!("vu{i}@soak.test")
}

/// The response header a load balancer names its backend in (`balancer.rs` sets it).
pub(crate) const SERVED_BY: &str = "x-served-by";

#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) requests: AtomicU64,
    pub(crate) ok: AtomicU64,
    pub(crate) signed_out_pages: AtomicU64,
    pub(crate) refreshes: AtomicU64,
    pub(crate) server_errors: AtomicU64,
    pub(crate) other_statuses: AtomicU64,
    pub(crate) sessions_lost: AtomicU64,
    pub(crate) forged: AtomicU64,
    pub(crate) forged_accepted: AtomicU64,
    pub(crate) fault_phases: AtomicU64,
    pub(crate) key_rotations: AtomicU64,
    pub(crate) injected_failures: AtomicU64,
    pub(crate) injected_drops: AtomicU64,
    pub(crate) injected_delays: AtomicU64,
    pub(crate) injected_jwks_failures: AtomicU64,
    /// Responses per backend, when a load balancer names it ([`SERVED_BY`]).
    pub(crate) served_by: Mutex<BTreeMap<String, u64>>,
}

pub(crate) fn add(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn read(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

impl Stats {
    /// Counts one app response to a virtual user; `true` when it signed the user out.
    pub(crate) fn record(&self, res: &reqwest::Response, write: SessionWrite) -> bool {
        add(&self.requests);
        match res.status().as_u16() {
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
        if let Some(server) = res.headers().get(SERVED_BY) {
            let server = server.to_str().unwrap_or("?").to_owned();
            *self.served_by.lock().unwrap().entry(server).or_default() += 1;
        }
        write.lost()
    }

    /// The report's part about the attacker and the faults: `forged=… forged_accepted=…
    /// fault_phases=… key_rotations=… injected(failed/dropped/delayed/jwks)=…`.
    pub(crate) fn faults_report(&self) -> String {
        format!(
            "forged={} forged_accepted={} fault_phases={} key_rotations={} \
             injected(failed/dropped/delayed/jwks)={}/{}/{}/{}",
            read(&self.forged),
            read(&self.forged_accepted),
            read(&self.fault_phases),
            read(&self.key_rotations),
            read(&self.injected_failures),
            read(&self.injected_drops),
            read(&self.injected_delays),
            read(&self.injected_jwks_failures),
        )
    }

    /// `requests` counts the users' and the attacker's requests.
    pub(crate) fn all_requests(&self) -> u64 {
        read(&self.requests) + read(&self.forged)
    }
}

/// Lets a refresh storm run alone. Every other request of the soak, and every fault
/// switch, holds a shared guard while in flight; a storm holds the exclusive one, so
/// the Auth calls made meanwhile are the storm's, under one fault setting.
#[derive(Clone, Default)]
pub(crate) struct Quiet(Arc<RwLock<()>>);

impl Quiet {
    pub(crate) async fn shared(&self) -> RwLockReadGuard<'_, ()> {
        self.0.read().await
    }

    pub(crate) async fn alone(&self) -> RwLockWriteGuard<'_, ()> {
        self.0.write().await
    }
}

/// What every task of one soak shares.
#[derive(Clone)]
pub(crate) struct Soak {
    /// The app's (or the load balancer's) origin.
    pub(crate) base: String,
    pub(crate) stats: Arc<Stats>,
    pub(crate) deadline: Instant,
    pub(crate) quiet: Quiet,
}

/// One virtual user: signs in, then browses until the deadline with think times,
/// sometimes two requests at once (as a browser loading a page and a fetch).
pub(crate) async fn virtual_user(soak: Soak, email: String, seed: u64) -> Browser {
    let Soak {
        base, stats, quiet, ..
    } = &soak;
    let http = http_client();
    let mut rng = super::Rng::new(seed);
    let mut browser = Browser::default();
    {
        let _turn = quiet.shared().await;
        sign_in(&http, &mut browser, base, &email, PASSWORD).await;
        let (res, _) = get(&http, &mut browser, &format!("{base}/dashboard")).await;
        assert_eq!(res.status(), StatusCode::OK, "{email}: the first dashboard");
    }
    let mut lost = false;
    while Instant::now() < soak.deadline && !lost {
        let path = if rng.chance(75) { "/dashboard" } else { "/" };
        let url = format!("{base}{path}");
        let turn = quiet.shared().await;
        if rng.chance(10) {
            let (mut a, mut b) = (browser.clone(), browser.clone());
            let (ra, rb) = tokio::join!(get(&http, &mut a, &url), get(&http, &mut b, &url));
            lost |= stats.record(&ra.0, ra.1);
            lost |= stats.record(&rb.0, rb.1);
            // The browser keeps whichever response it processed last.
            browser = b;
        } else {
            let (res, write) = get(&http, &mut browser, &url).await;
            lost |= stats.record(&res, write);
        }
        drop(turn);
        tokio::time::sleep(Duration::from_millis(rng.range(20, 120))).await;
    }
    browser
}

/// Switches a random fault on for a while, then everything off for a while, until the
/// deadline. Signing keys are rotated at most twice.
pub(crate) async fn chaos(soak: Soak, emu: Emulator, seed: u64) {
    let stats = &soak.stats;
    let mut rng = super::Rng::new(seed);
    let faults = emu.faults();
    while Instant::now() < soak.deadline {
        tokio::time::sleep(Duration::from_millis(rng.range(500, 1500))).await;
        let turn = soak.quiet.shared().await;
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
        drop(turn);
        tokio::time::sleep(Duration::from_millis(rng.range(400, 1500))).await;
        let _turn = soak.quiet.shared().await;
        tally(&faults, stats);
    }
    let _turn = soak.quiet.shared().await;
    tally(&faults, stats);
}

/// Adds the faults injected so far to the totals, then switches every fault off.
fn tally(faults: &Faults, stats: &Stats) {
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
/// signature) to the protected page until the deadline.
pub(crate) async fn attacker(soak: Soak) {
    let Soak {
        base, stats, quiet, ..
    } = &soak;
    let http = http_client();
    let mut own = Browser::default();
    {
        let _turn = quiet.shared().await;
        sign_in(&http, &mut own, base, ATTACKER, PASSWORD).await;
    }
    let session = own.session().unwrap();
    let token = session["access_token"].as_str().unwrap();
    let refresh = session["refresh_token"].as_str().unwrap();
    let cookies: Vec<String> = forgeries(token)
        .iter()
        .map(|forged| forged_cookie(forged, refresh))
        .collect();
    let mut i = 0;
    while Instant::now() < soak.deadline {
        let turn = quiet.shared().await;
        let res = http
            .get(format!("{base}/dashboard"))
            .header("cookie", &cookies[i % cookies.len()])
            .send()
            .await
            .unwrap();
        drop(turn);
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

/// Auth is healthy again: every user's very next request must find them signed in,
/// refreshing if their token expired meanwhile. Those that do not count as lost.
/// Runs `vus` virtual users (users `0..vus`, seeds after `seed`), the attacker and the
/// fault switcher until the soak's deadline; returns the users' browsers.
pub(crate) async fn crowd(soak: &Soak, emu: &Emulator, vus: u64, seed: u64) -> Vec<Browser> {
    let users: Vec<_> = (0..vus)
        .map(|i| {
            tokio::spawn(virtual_user(
                soak.clone(),
                user_email(i),
                seed.wrapping_add(i + 1),
            ))
        })
        .collect();
    let attack = tokio::spawn(attacker(soak.clone()));
    let chaos = tokio::spawn(chaos(soak.clone(), emu.clone(), seed));
    let mut browsers = Vec::new();
    for u in users {
        browsers.push(u.await.unwrap());
    }
    attack.await.unwrap();
    chaos.await.unwrap();
    browsers
}

/// How long after the faults go off a user may still see the signed-out page: a
/// process whose refreshes are paused after Auth failures waits out the pause before
/// its next attempt (pauses double up to 30 s while Auth keeps failing; see
/// `supabase-ssr`'s outage module), and serves an expired session as signed out until
/// then, its cookies kept.
const RECOVERY_LIMIT: Duration = Duration::from_secs(35);

/// With the faults off, every user's session must come back: each user asks for the
/// dashboard until it is served signed in, within [`RECOVERY_LIMIT`] of the first try.
/// A deleted session cookie, or a user still signed out after that, is a session lost.
/// Prints how long the slowest user waited.
pub(crate) async fn every_user_recovers(soak: &Soak, browsers: &mut [Browser]) {
    let http = http_client();
    let started = Instant::now();
    let mut not_recovered = 0;
    for browser in browsers {
        loop {
            let (res, write) = get(&http, browser, &format!("{}/dashboard", soak.base)).await;
            let (signed_in, lost) = (res.status() == StatusCode::OK, write.lost());
            soak.stats.record(&res, write);
            // Signed in again, or the cookie deleted (which `record` counts as lost).
            if signed_in || lost {
                break;
            }
            if started.elapsed() >= RECOVERY_LIMIT {
                not_recovered += 1;
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    println!(
        "recovery: every user's session back within {} ms of the faults going off ({not_recovered} not)",
        started.elapsed().as_millis()
    );
    soak.stats
        .sessions_lost
        .fetch_add(not_recovered, Ordering::Relaxed);
}

/// The assertions every soak makes, after its report is printed.
pub(crate) fn assert_nothing_lost(stats: &Stats, users: u64) {
    assert_eq!(read(&stats.server_errors), 0, "5xx answers");
    assert_eq!(read(&stats.sessions_lost), 0, "sessions lost");
    assert_eq!(read(&stats.forged_accepted), 0, "forged requests accepted");
    assert_eq!(read(&stats.other_statuses), 0, "unexpected statuses");
    assert!(read(&stats.forged) > 0);
    assert!(
        read(&stats.refreshes) >= users,
        "every user should have refreshed at least once"
    );
}
