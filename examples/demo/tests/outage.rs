//! The demo during an Auth outage (`/token` answering 503): pages with a still-valid
//! access token answer without waiting on the retry budget, pages with an expired one
//! give the signed-out view as fast, and nothing is deleted. Prints the page latencies
//! RELIABILITY.md quotes (`cargo test -p demo --test outage -- --nocapture`).
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use demo::{Database, DemoConfig};
use reqwest::header::SET_COOKIE;
use support::{browser, location};

const PAGES: usize = 5;

#[tokio::test]
async fn pages_during_a_token_outage_answer_at_once_and_keep_the_cookies() {
    // 3 s access tokens inside the demo's 20 s refresh margin: every page wants a
    // refresh, and the token is still valid for the first pages.
    let app = demo::run(
        DemoConfig::emulator()
            .port(0)
            .database(Database::Off)
            .jwt_exp(Duration::from_secs(3)),
    )
    .await
    .unwrap();
    let emu = app.emulator().unwrap();
    let client = browser();
    let res = client
        .post(format!("{}/sign-in", app.url()))
        .form(&[
            ("email", demo::DEMO_EMAIL),
            ("password", demo::DEMO_PASSWORD),
            ("next", "/dashboard"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let signed_in_at = Instant::now();

    emu.faults().only_paths(&["/token"]);
    emu.faults().fail_all(503).unwrap();
    emu.clear_requests();
    let refreshes = || {
        emu.requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/token"))
            .count()
    };

    // A still-valid token: the dashboard, as the signed-in user.
    let mut valid = Vec::new();
    for _ in 0..PAGES {
        let (took, res) = timed_dashboard(&client, app.url()).await;
        valid.push(took);
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers().get_all(SET_COOKIE).iter().count(), 0);
        assert!(res.text().await.unwrap().contains(demo::DEMO_EMAIL));
    }
    assert!(
        signed_in_at.elapsed() < Duration::from_secs(3),
        "the token expired before the valid-token pages were done; the machine is too slow \
         for this test"
    );
    // The first page tried once (no retry: the token is good); the rest found the
    // refreshes paused (1 s after that failure, then one probe).
    let after_valid = refreshes();
    assert!((1..=2).contains(&after_valid), "{after_valid}");

    // The token expires: the signed-out view (Verified sends to the sign-in page).
    let wait = Duration::from_millis(3_500).saturating_sub(signed_in_at.elapsed());
    tokio::time::sleep(wait).await;
    let mut expired = Vec::new();
    for _ in 0..PAGES {
        let (took, res) = timed_dashboard(&client, app.url()).await;
        expired.push(took);
        assert_eq!(res.status(), 303);
        assert_eq!(location(&res), "/sign-in?next=%2Fdashboard");
        // Cookies kept: nothing written, nothing deleted.
        assert_eq!(res.headers().get_all(SET_COOKIE).iter().count(), 0);
    }
    // At most one more probe per pause (1, 2, 4 s...) over the whole run.
    assert!(refreshes() <= after_valid + 2, "{}", refreshes());

    // Auth is back: after the current pause, the session refreshes and the user is in.
    emu.faults().clear();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let res = client
        .get(format!("{}/dashboard", app.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let lines: Vec<&str> = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    let session: Vec<&&str> = lines
        .iter()
        .filter(|l| l.starts_with("sb-127-auth-token"))
        .collect();
    assert_eq!(session.len(), 1, "{lines:?}");
    assert!(
        session[0].starts_with("sb-127-auth-token=base64-"),
        "{lines:?}"
    );

    let ms = |d: &Duration| format!("{:.1}", d.as_secs_f64() * 1000.0);
    println!(
        "outage page latencies (ms), valid token: {}",
        valid.iter().map(ms).collect::<Vec<_>>().join(", ")
    );
    println!(
        "outage page latencies (ms), expired token: {}",
        expired.iter().map(ms).collect::<Vec<_>>().join(", ")
    );
    println!("refresh attempts reaching Auth: {}", refreshes() - 1);
    app.shutdown().await;
}

/// `GET /dashboard`, and how long the answer took.
async fn timed_dashboard(client: &reqwest::Client, app_url: &str) -> (Duration, reqwest::Response) {
    let started = Instant::now();
    let res = client
        .get(format!("{app_url}/dashboard"))
        .send()
        .await
        .unwrap();
    (started.elapsed(), res)
}
