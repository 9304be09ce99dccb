//! Tests of the loopback server in `tests/support`, which the Auth client tests (unit
//! tests in `src/api/tests`) rely on to see exact requests.
//!
//! The client itself is crate-private; once the server client exposes it, its
//! end-to-end tests belong here.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use support::{Reply, TestServer};

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

#[tokio::test]
async fn server_records_the_exact_request() {
    let server = TestServer::start().await;
    server.push(Reply::json(201, r#"{"ok":true}"#).with_header("x-test", "1"));

    let response = client()
        .post(format!(
            "{}/auth/v1/token?grant_type=password",
            server.url()
        ))
        .header("apikey", "k")
        .header("content-type", "application/json;charset=UTF-8")
        .body(r#"{"a":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    assert_eq!(response.headers()["x-test"], "1");
    assert_eq!(response.text().await.unwrap(), r#"{"ok":true}"#);

    let request = server.single_request();
    assert_eq!(request.method, "POST");
    assert_eq!(request.target, "/auth/v1/token?grant_type=password");
    assert_eq!(request.header("APIKEY"), Some("k"));
    assert_eq!(
        request.header("content-type"),
        Some("application/json;charset=UTF-8")
    );
    assert_eq!(request.header_count("apikey"), 1);
    assert_eq!(request.body, br#"{"a":1}"#);
}

#[tokio::test]
async fn server_answers_script_then_fallback() {
    let server = TestServer::start().await;
    server.push(Reply::text(503, "down"));
    server.set_fallback(Reply::empty(204));
    let c = client();
    let url = format!("{}/x", server.url());
    let statuses = [
        c.get(&url).send().await.unwrap().status().as_u16(),
        c.get(&url).send().await.unwrap().status().as_u16(),
        c.get(&url).send().await.unwrap().status().as_u16(),
    ];
    assert_eq!(statuses, [503, 204, 204]);
    assert_eq!(server.requests().len(), 3);
    assert!(server.requests().iter().all(|r| r.body.is_empty()));
}

#[tokio::test]
async fn close_reply_breaks_the_connection_after_the_request_arrived() {
    let server = TestServer::start().await;
    server.set_fallback(Reply::Close);
    let err = client()
        .post(format!("{}/y", server.url()))
        .body("b")
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_timeout() && !err.is_connect(), "{err:?}");
    assert_eq!(server.single_request().body, b"b");
}

#[tokio::test]
async fn hang_reply_never_answers() {
    let server = TestServer::start().await;
    server.set_fallback(Reply::Hang);
    let err = client()
        .get(format!("{}/z", server.url()))
        .timeout(Duration::from_millis(150))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(server.single_request().method, "GET");
}

#[tokio::test]
async fn delay_reply_waits_before_answering() {
    let server = TestServer::start().await;
    server.push(Reply::Delay(
        Duration::from_millis(120),
        Box::new(Reply::empty(204)),
    ));
    let started = tokio::time::Instant::now();
    let status = client()
        .get(format!("{}/d", server.url()))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 204);
    assert!(started.elapsed() >= Duration::from_millis(120));
}
