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
use std::time::{Duration, Instant};

use demo::{Database, DemoConfig};
use load::soak::*;
use load::{env_u64, is_refresh_call};

const TOKEN_LIFETIME: Duration = Duration::from_secs(3);
const REFRESH_MARGIN: Duration = Duration::from_secs(1);

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
    for i in 0..vus {
        emu.create_user(&user_email(i), PASSWORD).await.unwrap();
    }
    emu.create_user(ATTACKER, PASSWORD).await.unwrap();

    let started = Instant::now();
    let soak = Soak {
        base: app.url().to_owned(),
        stats: Arc::new(Stats::default()),
        deadline: started + Duration::from_secs(secs),
        quiet: Quiet::default(),
    };
    let mut browsers = crowd(&soak, &emu, vus, seed).await;

    emu.faults().clear();
    every_user_recovers(&soak, &mut browsers).await;

    let stats = &soak.stats;
    let refresh_calls = emu.requests().iter().filter(|r| is_refresh_call(r)).count();
    println!(
        "soak report: secs={secs} vus={vus} seed={seed} requests={} ok={} signed_out_pages={} \
         refreshes={} refresh_calls={refresh_calls} 5xx={} other={} sessions_lost={} {} \
         elapsed={:.1}s",
        stats.all_requests(),
        read(&stats.ok),
        read(&stats.signed_out_pages),
        read(&stats.refreshes),
        read(&stats.server_errors),
        read(&stats.other_statuses),
        read(&stats.sessions_lost),
        stats.faults_report(),
        started.elapsed().as_secs_f64(),
    );
    assert_nothing_lost(stats, vus);
    app.shutdown().await;
}
