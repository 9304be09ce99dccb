//! Refresh-token rotation and GoTrue's reuse rules.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use serde_json::json;
use support::{Api, jwt_part};

fn rt(body: &serde_json::Value) -> String {
    body["refresh_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn refresh_rotates_and_keeps_the_session() {
    let api = Api::start().await;
    let s0 = api.signup("r@example.com", "secret123").await;
    let r1 = api.refresh(&rt(&s0)).await;
    assert_eq!(r1.status, 200);
    assert!(r1.body.get("weak_password").is_none());
    assert_ne!(rt(&r1.body), rt(&s0));
    let c0 = jwt_part(s0["access_token"].as_str().unwrap(), 1);
    let c1 = jwt_part(r1.body["access_token"].as_str().unwrap(), 1);
    assert_eq!(c1["session_id"], c0["session_id"]);
    assert_eq!(c1["amr"], c0["amr"], "refresh keeps the original amr");
    assert_eq!(r1.body["user"]["id"], s0["user"]["id"]);
    let r2 = api.refresh(&rt(&r1.body)).await;
    assert_eq!(r2.status, 200);
}

#[tokio::test]
async fn reuse_inside_the_interval_issues_a_new_child() {
    let api = Api::start().await; // 10 s interval
    let s0 = api.signup("in@example.com", "secret123").await;
    let first = api.refresh(&rt(&s0)).await;
    let again = api.refresh(&rt(&s0)).await;
    assert_eq!(again.status, 200);
    // The parent of the active token yields the active token itself.
    assert_eq!(rt(&again.body), rt(&first.body));
    // Rotate once more (t1 -> t2); t1 is now the parent of the active token.
    let second = api.refresh(&rt(&first.body)).await;
    assert_eq!(second.status, 200);
    assert_eq!(
        rt(&api.refresh(&rt(&first.body)).await.body),
        rt(&second.body)
    );
    // t0 is neither active nor the active token's parent, but within the interval: a new child.
    let reuse = api.refresh(&rt(&s0)).await;
    assert_eq!(reuse.status, 200);
    assert_ne!(rt(&reuse.body), rt(&second.body));
    assert_ne!(rt(&reuse.body), rt(&first.body));
    assert_eq!(
        jwt_part(reuse.body["access_token"].as_str().unwrap(), 1)["session_id"],
        jwt_part(s0["access_token"].as_str().unwrap(), 1)["session_id"]
    );
}

#[tokio::test]
async fn reuse_outside_the_interval_revokes_the_family() {
    let api =
        Api::with(support::config().refresh_token_reuse_interval(Duration::from_secs(1))).await;
    let s0 = api.signup("out@example.com", "secret123").await;
    let t1 = rt(&api.refresh(&rt(&s0)).await.body);
    let t2 = rt(&api.refresh(&t1).await.body);
    api.emu.advance_clock(Duration::from_secs(2));
    // t0 is revoked, is not the parent of the active token (t2), and is outside the interval.
    let reused = api.refresh(&rt(&s0)).await;
    assert_eq!(reused.status, 400);
    assert_eq!(
        reused.body,
        json!({ "code": 400, "error_code": "refresh_token_already_used", "msg": "Invalid Refresh Token: Already Used" })
    );
    // The whole family is revoked: the active token no longer refreshes (outside the interval later).
    api.emu.advance_clock(Duration::from_secs(2));
    let active = api.refresh(&t2).await;
    assert_eq!(
        (active.status, active.body["error_code"].as_str()),
        (400, Some("refresh_token_already_used"))
    );
    // The session itself survives: its access token still reads /user.
    let me = api
        .get_as("/user", s0["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me.status, 200, "{:?}", me.body);
}

#[tokio::test]
async fn invalid_refresh_tokens() {
    let api = Api::start().await;
    for (token, status, code) in [
        ("short", 400, "validation_failed"),
        ("ABCDEFGHIJKL", 400, "validation_failed"),
        ("aaaaaaaaaaaa", 400, "refresh_token_not_found"),
        ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 400, "validation_failed"),
    ] {
        let res = api.refresh(token).await;
        assert_eq!(
            (res.status, res.body["error_code"].as_str()),
            (status, Some(code)),
            "{token}"
        );
    }
    let missing = api.refresh("aaaaaaaaaaaa").await;
    assert_eq!(
        missing.body["msg"],
        "Invalid Refresh Token: Refresh Token Not Found"
    );
}

#[tokio::test]
async fn short_jwt_exp_lets_tests_watch_tokens_expire() {
    let api = Api::with(support::config().jwt_exp(Duration::from_secs(2))).await;
    let s = api.signup("exp@example.com", "secret123").await;
    assert_eq!(s["expires_in"], 2);
    let token = s["access_token"].as_str().unwrap();
    let before = api.get_as("/user", token).await;
    assert_eq!(before.status, 200, "{:?}", before.body);
    api.emu.advance_clock(Duration::from_secs(3));
    let expired = api.get_as("/user", token).await;
    assert_eq!(expired.status, 403);
    assert_eq!(expired.body["error_code"], "bad_jwt");
    assert_eq!(
        expired.body["msg"],
        "invalid JWT: unable to parse or verify signature, token has invalid claims: token is expired"
    );
    let refreshed = api.refresh(&rt(&s)).await;
    assert_eq!(refreshed.status, 200);
    let fresh = api
        .get_as("/user", refreshed.body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(fresh.status, 200, "{:?}", fresh.body);
}
