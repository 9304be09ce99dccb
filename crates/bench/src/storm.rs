//! `bench storm`: N parallel requests holding one expired session, through our proxy in
//! one process. Counts the refresh requests that reach the Auth emulator (the target is
//! exactly one per process), the failed requests, and the time to serve all.

use std::sync::Arc;
use std::time::{Duration, Instant};

use supabase_auth_emulator::EmulatorConfig;
use tokio::sync::Barrier;

use crate::Options;
use crate::common::signed_in_cookie;
use crate::rounds::verdict;
use crate::servers;

/// How far ahead of the issuing time the server lives: the session (1 hour) is two
/// hours expired when the storm hits.
const LATER_MS: i64 = 2 * 60 * 60 * 1000;

struct Storm {
    n: usize,
    refreshes: usize,
    failures: usize,
    new_session_cookies: usize,
    elapsed: Duration,
}

async fn storm(n: usize) -> Result<Storm, String> {
    let emulator = EmulatorConfig::default()
        .start()
        .await
        .map_err(|e| format!("emulator: {e}"))?;
    let cookie = signed_in_cookie(&emulator).await?;
    // The Auth server and our proxy both move two hours on: the session in the cookie
    // is expired for both (its access token too), and what the refresh issues is valid.
    emulator.advance_clock(Duration::from_millis(LATER_MS.unsigned_abs()));
    let auth = servers::auth(&emulator.url(), emulator.publishable_key(), LATER_MS)?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| e.to_string())?;
    let url = format!(
        "http://127.0.0.1:{}/",
        listener.local_addr().map_err(|e| e.to_string())?.port()
    );
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, servers::proxy(auth)).await;
    });
    emulator.clear_requests();

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let barrier = Arc::new(Barrier::new(n + 1));
    let mut tasks = Vec::with_capacity(n);
    for _ in 0..n {
        let (client, url, cookie, barrier) =
            (client.clone(), url.clone(), cookie.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let response = client
                .get(&url)
                .header("cookie", cookie)
                .send()
                .await
                .ok()?;
            let sets_session = response
                .headers()
                .get_all("set-cookie")
                .iter()
                .any(|v| v.to_str().is_ok_and(|v| v.starts_with("sb-")));
            (response.status() == 200).then_some(sets_session)
        }));
    }
    let started = Instant::now();
    barrier.wait().await;
    let mut failures = 0;
    let mut new_session_cookies = 0;
    for task in tasks {
        match task.await {
            Ok(Some(sets_session)) => new_session_cookies += usize::from(sets_session),
            _ => failures += 1,
        }
    }
    let elapsed = started.elapsed();
    server.abort();

    let refreshes = emulator
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/token") && r.query.contains("grant_type=refresh_token"))
        .count();
    emulator.shutdown().await;
    Ok(Storm {
        n,
        refreshes,
        failures,
        new_session_cookies,
        elapsed,
    })
}

pub(crate) async fn run(_options: &Options) -> Result<(), String> {
    println!("\n## storm: N parallel requests with one expired session, one process");
    println!(
        "\n| parallel requests | refresh requests at the Auth server | failures | responses carrying the new session | time to serve all (ms) |"
    );
    println!("|---:|---:|---:|---:|---:|");
    let mut ok = true;
    for n in [100, 1_000] {
        let s = storm(n).await?;
        println!(
            "| {} | {} | {} | {} | {:.1} |",
            s.n,
            s.refreshes,
            s.failures,
            s.new_session_cookies,
            s.elapsed.as_secs_f64() * 1000.0
        );
        ok &= s.refreshes == 1 && s.failures == 0;
    }
    println!(
        "\nexactly 1 refresh and 0 failures for 100 and 1,000: {}",
        verdict(ok)
    );
    if ok {
        Ok(())
    } else {
        Err("the refresh storm was not absorbed by one refresh".into())
    }
}
