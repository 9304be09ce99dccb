//! The refresh retry budget, in real time.
//!
//! Back-off before retry `n` is `200 ms · 2^(n-1)`, so attempts start at about 0, 200,
//! 600, 1400 ms; a retry is made only if its sleep ends inside the budget.

use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use super::support::{Reply, TestServer};
use super::*;

/// Scheduling noise allowed on a busy machine.
const SLACK: Duration = Duration::from_millis(500);

fn with_budget(server: &TestServer, budget_ms: u64, request_timeout_ms: u64) -> AuthApi {
    api_with(
        server,
        ApiOptions {
            retry_budget: Duration::from_millis(budget_ms),
            request_timeout: Duration::from_millis(request_timeout_ms),
            ..options()
        },
    )
}

/// The gaps between consecutive attempts.
fn gaps(server: &TestServer) -> Vec<Duration> {
    let requests = server.requests();
    requests.windows(2).map(|w| w[1].at - w[0].at).collect()
}

#[tokio::test]
async fn refresh_retries_server_errors_until_success() {
    let server = TestServer::start().await;
    server.push(Reply::text(503, "unavailable"));
    server.push(Reply::json(502, r#"{"message":"bad gateway"}"#));
    server.push(Reply::json(200, SESSION));
    let session = with_budget(&server, 3000, 1000)
        .refresh(REFRESH_TOKEN, true)
        .await
        .unwrap();
    assert_eq!(session, object(SESSION));

    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    let expected = format!(r#"{{"refresh_token":"{REFRESH_TOKEN}"}}"#);
    assert!(requests.iter().all(|r| r.body_text() == expected));
    let gaps = gaps(&server);
    assert!(gaps[0] >= Duration::from_millis(200), "{gaps:?}");
    assert!(gaps[1] >= Duration::from_millis(400), "{gaps:?}");
}

#[tokio::test]
async fn refresh_gives_up_within_the_budget() {
    let server = TestServer::start().await;
    server.set_fallback(Reply::text(503, "unavailable"));
    let started = Instant::now();
    let err = with_budget(&server, 1200, 1000)
        .refresh(REFRESH_TOKEN, true)
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    // Attempts at ~0, ~200 and ~600 ms; the next could start at ~1400 ms at the earliest.
    assert_eq!(server.requests().len(), 3, "{:?}", gaps(&server));
    assert!(elapsed >= Duration::from_millis(600), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1200) + SLACK, "{elapsed:?}");
    // The last failure is returned, not a timeout: nothing was cut short.
    assert_eq!(err.status(), Some(503));
    assert!(err.is_retryable() && err.is_transient() && !err.is_timeout());
    assert_no_secrets(&err);
}

#[tokio::test]
async fn every_retryable_status_is_retried_within_a_tiny_budget() {
    let mut tasks = JoinSet::new();
    for status in [500, 502, 503, 504, 520, 530] {
        tasks.spawn(async move {
            let server = TestServer::start().await;
            server.set_fallback(Reply::json(
                status,
                r#"{"code":"unexpected_failure","message":"Unexpected failure"}"#,
            ));
            let started = Instant::now();
            let err = with_budget(&server, 500, 1000)
                .refresh(REFRESH_TOKEN, true)
                .await
                .unwrap_err();
            let elapsed = started.elapsed();
            // Attempts at ~0 and ~200 ms; the next could start at ~600 ms at the earliest.
            assert_eq!(server.requests().len(), 2, "{status}");
            assert_eq!(err.status(), Some(status));
            assert!(err.is_retryable());
            assert!(
                elapsed < Duration::from_millis(500) + SLACK,
                "{status}: {elapsed:?}"
            );
        });
    }
    while let Some(result) = tasks.join_next().await {
        result.unwrap();
    }
}

#[tokio::test]
async fn refresh_does_not_retry_client_errors() {
    for status in [400, 401, 403, 404, 422, 429] {
        let server = TestServer::start().await;
        server.set_fallback(Reply::json(status, r#"{"error_code":"x","msg":"m"}"#));
        let err = with_budget(&server, 3000, 1000)
            .refresh(REFRESH_TOKEN, true)
            .await
            .unwrap_err();
        assert_eq!(server.requests().len(), 1, "{status}");
        assert_eq!(err.status(), Some(status));
    }
}

#[tokio::test]
async fn refresh_retries_dropped_connections() {
    let server = TestServer::start().await;
    server.set_fallback(Reply::Close);
    let started = Instant::now();
    let err = with_budget(&server, 500, 1000)
        .refresh(REFRESH_TOKEN, true)
        .await
        .unwrap_err();
    assert_eq!(server.requests().len(), 2, "{:?}", gaps(&server));
    assert!(err.is_network() && err.is_retryable(), "{err:?}");
    assert!(started.elapsed() < Duration::from_millis(500) + SLACK);
    assert_no_secrets(&err);
}

#[tokio::test]
async fn refresh_against_a_silent_server_times_out_at_the_budget() {
    let server = TestServer::start().await;
    server.set_fallback(Reply::Hang);
    let started = Instant::now();
    let err = with_budget(&server, 300, 10_000)
        .refresh(REFRESH_TOKEN, true)
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(err.is_timeout() && err.is_transient(), "{err:?}");
    assert_eq!(server.requests().len(), 1);
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(300) + SLACK, "{elapsed:?}");
}

#[tokio::test]
async fn each_attempt_is_bounded_by_the_request_timeout_too() {
    let server = TestServer::start().await;
    server.set_fallback(Reply::Hang);
    let started = Instant::now();
    let err = with_budget(&server, 1100, 100)
        .refresh(REFRESH_TOKEN, true)
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    // Attempts at ~0 (timeout ~100), ~300 (~400), ~800 (~900); the next sleep ends past 1100.
    assert_eq!(server.requests().len(), 3, "{:?}", gaps(&server));
    assert!(err.is_timeout(), "{err:?}");
    assert!(elapsed < Duration::from_millis(1100) + SLACK, "{elapsed:?}");
}

#[tokio::test]
async fn refresh_answer_without_a_session_is_a_missing_session() {
    let server = TestServer::start().await;
    server.set_fallback(Reply::json(200, r#"{"user":{"id":"u1"}}"#));
    let err = with_budget(&server, 3000, 1000)
        .refresh(REFRESH_TOKEN, true)
        .await
        .unwrap_err();
    assert!(err.is_session_missing() && !err.is_transient());
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn refresh_retries_a_non_json_success() {
    let server = TestServer::start().await;
    server.push(Reply::text(200, "<html>proxy</html>"));
    server.push(Reply::json(200, SESSION));
    let session = with_budget(&server, 3000, 1000)
        .refresh(REFRESH_TOKEN, true)
        .await
        .unwrap();
    assert_eq!(session, object(SESSION));
    assert_eq!(server.requests().len(), 2);
}
