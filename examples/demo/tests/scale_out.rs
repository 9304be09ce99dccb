//! Scale-out: two instances of the demo app behind a load balancer without sticky
//! sessions serve one browser's requests alternately, sometimes both at once, through
//! many refreshes (2 s access tokens). The instances share nothing: each has its own
//! `SupabaseAuth` (its own single-flight table, JWKS cache and verified-token cache),
//! exactly as two processes would; only the Auth server's refresh-token reuse rules
//! keep the session alive. No request may find the browser signed out.
//!
//! ```sh
//! SCALE_OUT_SECS=60 cargo test -p demo --release --test scale_out -- --nocapture
//! ```
#![allow(clippy::unwrap_used)]

mod load;

use std::time::{Duration, Instant};

use demo::{Database, DemoConfig};
use load::*;
use reqwest::StatusCode;
use supabase_auth_emulator::EmulatorConfig;

const EMAIL: &str = "lb@example.com";
const PASSWORD: &str = "scale-out-password-1";

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_without_shared_state_keep_one_browser_signed_in() {
    let secs = env_u64("SCALE_OUT_SECS", 10);
    let seed = env_u64("SCALE_OUT_SEED", 7);
    // One Auth server, with the platform's 10 s reuse interval.
    let emu = EmulatorConfig::default()
        .jwt_exp(Duration::from_secs(2))
        .refresh_token_reuse_interval(Duration::from_secs(10))
        .start()
        .await
        .unwrap();
    emu.create_user(EMAIL, PASSWORD).await.unwrap();
    let instance = || {
        demo::run(
            DemoConfig::project(emu.url(), emu.publishable_key())
                .port(0)
                .refresh_margin(Duration::from_secs(1))
                // Sessions only: no notes database to start per instance.
                .database(Database::Off),
        )
    };
    let (a, b) = (instance().await.unwrap(), instance().await.unwrap());
    let bases = [a.url().to_owned(), b.url().to_owned()];

    let http = http_client();
    let mut rng = Rng::new(seed);
    let mut browser = Browser::default();
    sign_in(&http, &mut browser, &bases[0], EMAIL, PASSWORD).await;
    emu.clear_requests();

    let (mut requests, mut refreshes, mut pairs, mut signed_out, mut lost) =
        (0, [0u64; 2], 0, 0, 0);
    let started = Instant::now();
    let mut i = 0usize;
    while started.elapsed() < Duration::from_secs(secs) {
        // When the session is about to be refreshed, send it to both instances at
        // once most of the time: both then refresh the same refresh token.
        let expiring = browser
            .session()
            .and_then(|s| s["expires_at"].as_u64())
            .is_some_and(|at| at.saturating_sub(now_secs()) <= 1);
        if rng.chance(if expiring { 70 } else { 15 }) {
            // Both instances at once, with the same cookies.
            let (mut x, mut y) = (browser.clone(), browser.clone());
            let (ux, uy) = (
                format!("{}/dashboard", bases[0]),
                format!("{}/dashboard", bases[1]),
            );
            let (rx, ry) = tokio::join!(get(&http, &mut x, &ux), get(&http, &mut y, &uy));
            for (n, (res, write)) in [(0, &rx), (1, &ry)] {
                requests += 1;
                if res.status() != StatusCode::OK {
                    signed_out += 1;
                }
                if write.set {
                    refreshes[n] += 1;
                }
                if write.lost() {
                    lost += 1;
                }
            }
            // The browser ends with whichever response it handled last.
            browser = if rng.chance(50) { x } else { y };
            pairs += 1;
        } else {
            let n = i % 2;
            let (res, write) = get(&http, &mut browser, &format!("{}/dashboard", bases[n])).await;
            requests += 1;
            if res.status() != StatusCode::OK {
                signed_out += 1;
            }
            if write.set {
                refreshes[n] += 1;
            }
            if write.lost() {
                lost += 1;
            }
            i += 1;
        }
        tokio::time::sleep(Duration::from_millis(rng.range(50, 250))).await;
    }
    let refresh_calls = emu.requests().iter().filter(|r| is_refresh_call(r)).count();
    println!(
        "scale-out report: secs={secs} requests={requests} parallel_pairs={pairs} \
         refreshes_written={}+{} refresh_calls={refresh_calls} signed_out={signed_out} \
         sessions_lost={lost}",
        refreshes[0], refreshes[1]
    );
    assert_eq!(signed_out, 0, "a request found the browser signed out");
    assert_eq!(lost, 0, "the session cookie was deleted");
    // Both instances refreshed the one session, many times.
    assert!(refreshes[0] >= 2 && refreshes[1] >= 2, "{refreshes:?}");
    assert!(refresh_calls as u64 >= secs / 2, "{refresh_calls}");
    a.shutdown().await;
    b.shutdown().await;
}
