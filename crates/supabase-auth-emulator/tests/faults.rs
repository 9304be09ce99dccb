//! The fault mode: off by default, switched at run time from the library handle or over
//! HTTP (secret key only), bounded, and limited to the Auth API.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use supabase_auth_emulator::{FAULT_HEADER, MAX_LATENCY};
use support::{Api, jwt_part};

#[tokio::test]
async fn off_by_default() {
    let api = Api::start().await;
    let settings = api.emu.faults().settings();
    assert_eq!(settings.latency_ms, 0);
    assert_eq!(settings.fail_status, None);
    assert!(!settings.drop_connections && !settings.jwks_outage);
    assert_eq!(settings.clock_offset_secs, 0);
    let res = api.get("/health").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header(FAULT_HEADER), None);
}

#[tokio::test]
async fn fail_next_answers_n_requests_then_recovers() {
    let api = Api::start().await;
    let user = api.signup("f1@example.com", "secret123").await;
    let rt = user["refresh_token"].as_str().unwrap().to_owned();
    let faults = api.emu.faults();
    faults.fail_next(2, 503).unwrap();
    for _ in 0..2 {
        let res = api.refresh(&rt).await;
        assert_eq!(res.status, 503);
        assert_eq!(res.header(FAULT_HEADER), Some("status"));
        assert_eq!(res.body, json!({"message": "Service Unavailable"}));
    }
    // The failed attempts never reached GoTrue: the token is still unspent.
    let res = api.refresh(&rt).await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    assert_eq!(faults.counts().failed, 2);
    assert_eq!(faults.settings().fail_status, None);
    // Every attempt is still recorded.
    let refreshes = api
        .emu
        .requests()
        .iter()
        .filter(|r| r.query == "grant_type=refresh_token")
        .count();
    assert_eq!(refreshes, 3);
}

#[tokio::test]
async fn rate_limit_and_500_use_gotrue_error_shapes() {
    let api = Api::start().await;
    let faults = api.emu.faults();
    faults.fail_all(429).unwrap();
    let res = api.get("/settings").await;
    assert_eq!(res.status, 429);
    assert_eq!(res.body["error_code"], "over_request_rate_limit");
    assert_eq!(res.body["msg"], "Request rate limit reached");
    assert_eq!(
        res.header("x-sb-error-code"),
        Some("over_request_rate_limit")
    );
    assert_eq!(res.header("retry-after"), Some("1"));
    // With the 2024-01-01 API version, the new shape.
    let res = api
        .call(
            api.req(Method::GET, "/settings")
                .header("x-supabase-api-version", "2024-01-01"),
        )
        .await;
    assert_eq!(
        res.body,
        json!({"code": "over_request_rate_limit", "message": "Request rate limit reached"})
    );
    assert_eq!(res.header("x-supabase-api-version"), Some("2024-01-01"));

    faults.fail_all(500).unwrap();
    let res = api.get("/settings").await;
    assert_eq!(res.status, 500);
    assert_eq!(res.body["error_code"], "unexpected_failure");
    faults.clear();
    assert_eq!(api.get("/settings").await.status, 200);
}

#[tokio::test]
async fn only_paths_limits_failures_and_never_touches_the_admin_route() {
    let api = Api::start().await;
    let faults = api.emu.faults();
    faults.only_paths(&["/token"]);
    faults.fail_all(503).unwrap();
    assert_eq!(api.get("/settings").await.status, 200);
    let res = api.login("nobody@example.com", "x").await;
    assert_eq!(res.status, 503);
    // The emulator's own routes are never faulted, so the fault can be turned off.
    faults.only_paths(&[]);
    let res = api
        .call(api.admin(Method::GET, "/settings").header("x", "y"))
        .await;
    assert_eq!(res.status, 503);
    let off = api
        .http
        .delete(format!("{}/emulator/v1/faults", api.emu.url()))
        .header("apikey", api.emu.secret_key())
        .send()
        .await
        .unwrap();
    assert_eq!(off.status(), 200);
    assert_eq!(api.get("/settings").await.status, 200);
}

#[tokio::test]
async fn latency_is_added_and_capped() {
    let api = Api::start().await;
    let faults = api.emu.faults();
    faults.set_latency(Duration::from_millis(300));
    let started = Instant::now();
    assert_eq!(api.get("/health").await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(faults.counts().delayed, 1);
    faults.set_latency(Duration::from_secs(3600));
    assert_eq!(
        faults.settings().latency_ms,
        u64::try_from(MAX_LATENCY.as_millis()).unwrap()
    );
    faults.clear();
    assert_eq!(faults.settings().latency_ms, 0);
    assert_eq!(faults.counts().delayed, 0);
}

#[tokio::test]
async fn dropped_connections_give_the_client_no_answer() {
    let api = Api::start().await;
    let faults = api.emu.faults();
    faults.drop_connections(true);
    for _ in 0..2 {
        // Either the head never arrives or the body is cut: no complete answer.
        let complete = match api.req(Method::GET, "/settings").send().await {
            Ok(res) => res.bytes().await.is_ok(),
            Err(_) => false,
        };
        assert!(!complete, "a dropped connection must not give an answer");
    }
    assert_eq!(faults.counts().dropped, 2);
    faults.drop_connections(false);
    assert_eq!(api.get("/settings").await.status, 200);
}

#[tokio::test]
async fn jwks_outage_fails_only_the_jwks() {
    let api = Api::start().await;
    let faults = api.emu.faults();
    faults.jwks_outage(true);
    faults.only_paths(&["/token"]);
    let res = api.get("/.well-known/jwks.json").await;
    assert_eq!(res.status, 503);
    assert_eq!(res.header(FAULT_HEADER), Some("jwks_outage"));
    assert_eq!(api.get("/settings").await.status, 200);
    assert_eq!(faults.counts().jwks_failed, 1);
    faults.jwks_outage(false);
    let res = api.get("/.well-known/jwks.json").await;
    assert_eq!(res.status, 200);
    assert!(!res.body["keys"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn clock_offset_skews_issued_tokens_and_is_bounded() {
    let api = Api::start().await;
    let faults = api.emu.faults();
    let before = api.signup("clock@example.com", "secret123").await;
    let iat_before = jwt_part(before["access_token"].as_str().unwrap(), 1)["iat"]
        .as_i64()
        .unwrap();
    faults.clock_offset(-7200);
    let res = api.login("clock@example.com", "secret123").await;
    let iat_after = jwt_part(res.body["access_token"].as_str().unwrap(), 1)["iat"]
        .as_i64()
        .unwrap();
    assert!(
        (iat_before - 7200 - iat_after).abs() <= 2,
        "{iat_before} {iat_after}"
    );
    assert_eq!(faults.settings().clock_offset_secs, -7200);
    faults.clock_offset(i64::MAX);
    assert_eq!(faults.settings().clock_offset_secs, 24 * 3600);
    faults.clear();
    assert_eq!(faults.settings().clock_offset_secs, 0);
    // `advance_clock` is separate and survives `clear`.
    api.emu.advance_clock(Duration::from_secs(60));
    faults.clear();
    let res = api.login("clock@example.com", "secret123").await;
    let iat = jwt_part(res.body["access_token"].as_str().unwrap(), 1)["iat"]
        .as_i64()
        .unwrap();
    assert!(iat >= iat_before + 59, "{iat_before} {iat}");
}

#[tokio::test]
async fn invalid_settings_are_refused() {
    let api = Api::start().await;
    let faults = api.emu.faults();
    assert!(faults.fail_all(200).is_err());
    assert!(faults.fail_next(1, 404).is_err());
    assert!(faults.fail_ratio(1.5, 503).is_err());
    assert!(faults.fail_ratio(f64::NAN, 503).is_err());
    assert_eq!(faults.settings().fail_status, None);
    faults.fail_next(u32::MAX, 503).unwrap();
    assert_eq!(
        faults.settings().fail_remaining,
        Some(supabase_auth_emulator::MAX_FAIL_COUNT)
    );
}

#[tokio::test]
async fn http_admin_route_needs_the_secret_key_and_changes_settings() {
    let api = Api::start().await;
    let url = format!("{}/emulator/v1/faults", api.emu.url());
    let anon = api
        .http
        .post(&url)
        .header("apikey", api.emu.publishable_key())
        .json(&json!({"jwks_outage": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 403);
    assert!(!api.emu.faults().settings().jwks_outage);

    let res = api
        .http
        .post(&url)
        .header("apikey", api.emu.secret_key())
        .json(&json!({
            "latency_ms": 5,
            "fail": {"status": 503, "next": 3},
            "jwks_outage": true,
            "clock_offset_secs": 30,
            "paths": ["/token", "/user"]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["latency_ms"], 5);
    assert_eq!(body["fail_status"], 503);
    assert_eq!(body["fail_mode"], "next");
    assert_eq!(body["fail_remaining"], 3);
    assert_eq!(body["jwks_outage"], true);
    assert_eq!(body["clock_offset_secs"], 30);
    assert_eq!(body["paths"], json!(["/token", "/user"]));

    let bad = api
        .http
        .post(&url)
        .header("apikey", api.emu.secret_key())
        .json(&json!({"fail": {"status": 302}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let unknown = api
        .http
        .post(&url)
        .header("apikey", api.emu.secret_key())
        .json(&json!({"explode": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);

    let shown: serde_json::Value = api
        .http
        .get(&url)
        .header("apikey", api.emu.secret_key())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["fail_remaining"], 3);
    let cleared: serde_json::Value = api
        .http
        .delete(&url)
        .header("apikey", api.emu.secret_key())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["fail_status"], serde_json::Value::Null);
    assert_eq!(cleared["jwks_outage"], false);
    assert_eq!(cleared["clock_offset_secs"], 0);
}
