//! Three demo processes behind a real load balancer: HAProxy, round-robin per request,
//! no sticky sessions, all on 127.0.0.1. The test starts one Auth emulator in its own
//! process (3 s access tokens, GoTrue's 10 s refresh-token reuse interval), three
//! `demo` binaries pointed at it (`SUPABASE_URL`, `DEMO_REFRESH_MARGIN_SECS=1`,
//! `DATABASE_URL=off`) and HAProxy in front of them, and kills those processes by PID
//! when it ends, also on a panic. The processes share nothing but the Auth server.
//!
//! 1. Refresh storms: one browser's session, inside the refresh margin and then
//!    expired, sent 30 times at once through the balancer. Every answer is the signed-in
//!    page with the new session, nothing is deleted, every process served some, and
//!    exactly one refresh per process reaches Auth (printed per storm).
//! 2. A soak through the balancer: virtual users, random Auth faults switched on and
//!    off, forged sessions, and more storms, each run alone so the refreshes reaching
//!    Auth can be counted. No 5xx, no session lost, no forged request accepted, and at
//!    most one refresh per process in every storm Auth answered itself. The report
//!    counts storms by the refresh calls they made; storms while failures or dropped
//!    connections were injected are counted apart, the fault layer having answered
//!    (some of) their attempts.
//!
//! The test command runs a short form (about 13 s: the storms, then a 6 s soak). The long form, whose figures are
//! in `RELIABILITY.md`:
//!
//! ```sh
//! BALANCER_SECS=60 BALANCER_VUS=32 cargo test -p demo --release --test balancer -- --nocapture
//! ```
//!
//! `BALANCER_SEED` fixes the random faults and think times (the seed is printed). It
//! needs `haproxy` (`bash scripts/install-system-deps.sh` installs it).
#![allow(clippy::unwrap_used)]

mod load;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use load::cluster::Cluster;
use load::soak::*;
use load::{Browser, env_u64, http_client, is_refresh_call, sign_in};
use reqwest::header::COOKIE;
use supabase_auth_emulator::{Emulator, EmulatorConfig};

const PROCESSES: usize = 3;
const TOKEN_LIFETIME: Duration = Duration::from_secs(3);
/// The demos' refresh margin, in `DEMO_REFRESH_MARGIN_SECS`.
const REFRESH_MARGIN_SECS: u64 = 1;
/// Requests sent at once with one session.
const STORM: usize = 30;
/// The storms' own user.
const STORM_USER: &str = "storm@balancer.test";

fn now_millis() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// A token's hash, the same on every thread, to compare tokens without keeping them.
fn hash(token: &str) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut hasher = DefaultHasher::new();
    token.hash(&mut hasher);
    hasher.finish()
}

/// When a storm is sent, relative to the session's expiry.
#[derive(Debug, Clone, Copy)]
enum Moment {
    /// 0.5 s before it: inside the 1 s margin, still valid.
    InsideMargin,
    /// 0.3 s after it.
    Expired,
}

impl Moment {
    /// Sleeps until this moment of `browser`'s session, or at least `min`.
    async fn wait(self, browser: &Browser, min: Duration) {
        let expires_at = browser.session().unwrap()["expires_at"].as_u64().unwrap() * 1000;
        let at = match self {
            Moment::InsideMargin => expires_at - 500,
            Moment::Expired => expires_at + 300,
        };
        let wait = Duration::from_millis(at.saturating_sub(now_millis()));
        tokio::time::sleep(wait.max(min)).await;
    }
}

/// What one storm did.
#[derive(Default)]
struct Storm {
    statuses: BTreeMap<u16, usize>,
    /// Responses that wrote a session, and that deleted one.
    set: usize,
    deleted: usize,
    /// Responses per process.
    served: BTreeMap<String, usize>,
    /// Distinct refresh tokens among the sessions written (hashes: no token is kept).
    new_refresh_tokens: BTreeSet<u64>,
    /// `POST /token?grant_type=refresh_token` requests recorded by the emulator.
    refresh_calls: usize,
    /// Whether failures or dropped connections were switched on: then the fault layer,
    /// not Auth, answered (some of) the refresh calls.
    under_failures: bool,
}

/// Sends `STORM` requests for `/dashboard` at once, all with the browser's cookies as
/// they are now, and applies the answers to the browser in the order they arrive (the
/// last one written wins, as in a browser). Run it alone ([`Quiet::alone`]): the
/// refresh calls the emulator records meanwhile are counted as the storm's.
async fn storm(
    http: &reqwest::Client,
    browser: &mut Browser,
    base: &str,
    emu: &Emulator,
    stats: Option<&Stats>,
) -> Storm {
    let settings = emu.faults().settings();
    let mut out = Storm {
        under_failures: settings.fail_mode.is_some() || settings.drop_connections,
        ..Storm::default()
    };
    let before = emu.requests().len();
    let cookie = browser.cookie_header();
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..STORM {
        let request = http
            .get(format!("{base}/dashboard"))
            .header(COOKIE, &cookie);
        requests.spawn(async move { request.send().await.unwrap() });
    }
    while let Some(res) = requests.join_next().await {
        let res = res.unwrap();
        let write = browser.apply(&res);
        if let Some(stats) = stats {
            stats.record(&res, write);
        }
        *out.statuses.entry(res.status().as_u16()).or_default() += 1;
        out.set += usize::from(write.set);
        out.deleted += usize::from(write.deleted);
        let server = res
            .headers()
            .get(SERVED_BY)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        *out.served.entry(server).or_default() += 1;
        let mut alone = Browser::default();
        if alone.apply(&res).set {
            let session = alone.session().unwrap();
            out.new_refresh_tokens
                .insert(hash(session["refresh_token"].as_str().unwrap()));
        }
    }
    out.refresh_calls = emu.requests()[before..]
        .iter()
        .filter(|r| is_refresh_call(r))
        .count();
    out
}

/// Part 1: storms on one session, nothing else running, Auth healthy.
async fn storms_on_one_session(cluster: &Cluster, emu: &Emulator) {
    let http = http_client();
    let mut browser = Browser::default();
    sign_in(&http, &mut browser, &cluster.url, STORM_USER, PASSWORD).await;
    for moment in [Moment::InsideMargin, Moment::Expired] {
        moment.wait(&browser, Duration::ZERO).await;
        let old = hash(
            browser.session().unwrap()["refresh_token"]
                .as_str()
                .unwrap(),
        );
        let s = storm(&http, &mut browser, &cluster.url, emu, None).await;
        println!(
            "storm ({moment:?}): {STORM} requests, statuses {:?}, served {:?}, \
             refresh calls reaching Auth: {}",
            s.statuses, s.served, s.refresh_calls
        );
        assert_eq!(s.statuses, BTreeMap::from([(200, STORM)]), "{moment:?}");
        assert_eq!(
            (s.set, s.deleted),
            (STORM, 0),
            "{moment:?}: sessions written"
        );
        assert_eq!(
            s.served.keys().cloned().collect::<Vec<_>>(),
            cluster.names,
            "{moment:?}: every process answered some"
        );
        // One refresh per process: the first request each process sees refreshes, the
        // others share that refresh (in flight) or its result (after it).
        assert_eq!(s.refresh_calls, PROCESSES, "{moment:?}: refresh calls");
        // Auth rotated the token once; the other processes' calls got the same new
        // token back (the old one's child, handed out again).
        assert_eq!(
            s.new_refresh_tokens.len(),
            1,
            "{moment:?}: new refresh tokens"
        );
        assert!(
            !s.new_refresh_tokens.contains(&old),
            "{moment:?}: not rotated"
        );
        assert!(!s.under_failures);
    }
}

/// Storms during the soak, until the deadline, each run alone. Returns them and the
/// storm user's browser.
async fn stormer(soak: Soak, emu: Emulator, stats: Arc<Stats>) -> (Vec<Storm>, Browser) {
    let http = http_client();
    let mut browser = Browser::default();
    {
        let _turn = soak.quiet.shared().await;
        sign_in(&http, &mut browser, &soak.base, STORM_USER, PASSWORD).await;
    }
    let mut storms = Vec::new();
    let mut moments = [Moment::InsideMargin, Moment::Expired].into_iter().cycle();
    while Instant::now() < soak.deadline {
        let moment = moments.next().unwrap();
        moment.wait(&browser, Duration::from_millis(700)).await;
        if Instant::now() >= soak.deadline {
            break;
        }
        let alone = soak.quiet.alone().await;
        storms.push(storm(&http, &mut browser, &soak.base, &emu, Some(&stats)).await);
        drop(alone);
    }
    (storms, browser)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_behind_haproxy_keep_every_session() {
    let secs = env_u64("BALANCER_SECS", 6);
    let vus = env_u64("BALANCER_VUS", 12);
    let seed = env_u64(
        "BALANCER_SEED",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    );
    // One Auth server for every process, with the platform's 10 s reuse interval.
    let emu = EmulatorConfig::default()
        .jwt_exp(TOKEN_LIFETIME)
        .refresh_token_reuse_interval(Duration::from_secs(10))
        .start()
        .await
        .unwrap();
    for i in 0..vus {
        emu.create_user(&user_email(i), PASSWORD).await.unwrap();
    }
    for email in [ATTACKER, STORM_USER] {
        emu.create_user(email, PASSWORD).await.unwrap();
    }
    let margin = REFRESH_MARGIN_SECS.to_string();
    let mut cluster = Cluster::start(
        PROCESSES,
        &emu.url(),
        emu.publishable_key(),
        &[("DEMO_REFRESH_MARGIN_SECS", margin.as_str())],
    );

    storms_on_one_session(&cluster, &emu).await;

    let started = Instant::now();
    let soak = Soak {
        base: cluster.url.clone(),
        stats: Arc::new(Stats::default()),
        deadline: started + Duration::from_secs(secs),
        quiet: Quiet::default(),
    };
    let calls_before = emu.requests().iter().filter(|r| is_refresh_call(r)).count();
    // The storms' answers are counted apart, so that the users' own counts (every
    // user refreshed) are not made up by the storms'.
    let storm_stats = Arc::new(Stats::default());
    let storms = tokio::spawn(stormer(soak.clone(), emu.clone(), storm_stats.clone()));
    let mut browsers = crowd(&soak, &emu, vus, seed).await;
    let (mut storms, mut storm_browser) = storms.await.unwrap();
    let elapsed = started.elapsed().as_secs_f64();

    emu.faults().clear();
    every_user_recovers(&soak, &mut browsers).await;
    // One more storm, with the faults off: at least one is answered by Auth itself.
    Moment::InsideMargin
        .wait(&storm_browser, Duration::ZERO)
        .await;
    storms.push(
        storm(
            &http_client(),
            &mut storm_browser,
            &soak.base,
            &emu,
            Some(&storm_stats),
        )
        .await,
    );
    cluster.assert_running();

    let (stats, st) = (&soak.stats, &*storm_stats);
    let refresh_calls = emu.requests().iter().filter(|r| is_refresh_call(r)).count() - calls_before;
    // Refresh calls per storm -> number of storms.
    let per_storm = |under_failures: bool| {
        let mut counts = BTreeMap::<usize, usize>::new();
        for s in storms.iter().filter(|s| s.under_failures == under_failures) {
            *counts.entry(s.refresh_calls).or_default() += 1;
        }
        counts
    };
    let (answered, failing) = (per_storm(false), per_storm(true));
    let max_answered = answered.keys().max().copied().unwrap_or(0);
    let both = |counter: fn(&Stats) -> &AtomicU64| read(counter(stats)) + read(counter(st));
    let requests = stats.all_requests() + st.all_requests();
    let mut served_by = stats.served_by.lock().unwrap().clone();
    for (server, n) in st.served_by.lock().unwrap().iter() {
        *served_by.entry(server.clone()).or_default() += n;
    }
    println!(
        "balancer report: processes={PROCESSES} secs={secs} vus={vus} seed={seed} \
         requests={requests} req/s={:.0} ok={} signed_out_pages={} refreshes_written={} \
         refresh_calls={refresh_calls} storms={} answered_storms_by_refresh_calls={answered:?} \
         storms_under_injected_failures_by_attempts={failing:?} 5xx={} other={} \
         sessions_lost={} {} served_by={served_by:?} elapsed={elapsed:.1}s",
        requests as f64 / elapsed,
        both(|s| &s.ok),
        both(|s| &s.signed_out_pages),
        both(|s| &s.refreshes),
        storms.len(),
        both(|s| &s.server_errors),
        both(|s| &s.other_statuses),
        both(|s| &s.sessions_lost),
        stats.faults_report(),
    );
    assert_eq!(read(&st.server_errors), 0, "5xx answers to storms");
    assert_eq!(read(&st.sessions_lost), 0, "sessions lost in storms");
    assert_eq!(read(&st.other_statuses), 0, "unexpected statuses in storms");
    assert_nothing_lost(stats, vus);
    assert!(!answered.is_empty(), "no storm was answered by Auth itself");
    assert!(
        max_answered <= PROCESSES,
        "a storm sent {max_answered} refreshes to Auth, more than one per process"
    );
    assert_eq!(
        stats
            .served_by
            .lock()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>(),
        cluster.names,
        "every process served the soak"
    );
}
