//! `GET/PUT /user` and `POST /logout` with each scope.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::json;
use support::{Api, jwt_part};

fn token(body: &serde_json::Value) -> String {
    body["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn get_user_and_auth_errors() {
    let api = Api::start().await;
    let s = api.signup("u@example.com", "secret123").await;
    let me = api.get_as("/user", &token(&s)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["id"], s["user"]["id"]);
    assert!(me.body["confirmed_at"].is_string());
    assert!(me.body.get("factors").is_none());

    // The publishable key maps to the anon JWT, which has no sub.
    let anon = api.get("/user").await;
    assert_eq!(anon.status, 403);
    assert_eq!(anon.body["msg"], "invalid claim: missing sub claim");
    let no_bearer = api
        .call(
            api.http
                .get(api.url("/user"))
                .header("apikey", api.emu.anon_key()),
        )
        .await;
    assert_eq!(no_bearer.status, 401);
    assert_eq!(
        no_bearer.body,
        json!({ "code": 401, "error_code": "no_authorization", "msg": "This endpoint requires a valid Bearer token" })
    );
}

#[tokio::test]
async fn update_user_data_and_password() {
    let api = Api::start().await;
    let s = api.signup("up@example.com", "secret123").await;
    let other = api.login("up@example.com", "secret123").await.body;
    let res = api
        .put_as(
            "/user",
            &token(&s),
            json!({ "data": { "nickname": "ann", "email_verified": null } }),
        )
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["user_metadata"]["nickname"], "ann");
    assert!(res.body["user_metadata"].get("email_verified").is_none());

    let same = api
        .put_as("/user", &token(&s), json!({ "password": "secret123" }))
        .await;
    assert_eq!(
        (same.status, same.body["error_code"].as_str()),
        (422, Some("same_password"))
    );
    let weak = api
        .put_as("/user", &token(&s), json!({ "password": "abc" }))
        .await;
    assert_eq!(
        (weak.status, weak.body["error_code"].as_str()),
        (422, Some("weak_password"))
    );
    let app = api
        .put_as(
            "/user",
            &token(&s),
            json!({ "app_metadata": { "role": "admin" } }),
        )
        .await;
    assert_eq!(
        (app.status, app.body["error_code"].as_str()),
        (403, Some("not_admin"))
    );

    let changed = api
        .put_as("/user", &token(&s), json!({ "password": "new-secret" }))
        .await;
    assert_eq!(changed.status, 200);
    assert_eq!(api.login("up@example.com", "new-secret").await.status, 200);
    assert_eq!(api.login("up@example.com", "secret123").await.status, 400);
    // Other sessions are signed out, the current one stays.
    assert_eq!(
        api.get_as("/user", &token(&other)).await.body["error_code"],
        "session_not_found"
    );
    assert_eq!(api.get_as("/user", &token(&s)).await.status, 200);
}

#[tokio::test]
async fn an_anonymous_users_email_is_immediate_under_autoconfirm() {
    let api = Api::start().await;
    let anon = api.post("/signup", json!({})).await.body;
    let res = api
        .put_as(
            "/user",
            &token(&anon),
            json!({ "email": "conv@example.com" }),
        )
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["email"], "conv@example.com");
    assert_eq!(res.body["is_anonymous"], false);
    // GoTrue's `UserUpdate` does not recompute the providers here (`/verify` does);
    // permanent users confirm a new address even under autoconfirm (tests/email_change.rs).
    assert_eq!(res.body["app_metadata"], json!({}));
    let dup = api.signup("dup2@example.com", "secret123").await;
    let taken = api
        .put_as(
            "/user",
            &token(&dup),
            json!({ "email": "conv@example.com" }),
        )
        .await;
    assert_eq!(
        (taken.status, taken.body["error_code"].as_str()),
        (422, Some("email_exists"))
    );
}

#[tokio::test]
async fn logout_scopes() {
    let api = Api::start().await;
    api.signup("out@example.com", "secret123").await;
    let a = api.login("out@example.com", "secret123").await.body;
    let b = api.login("out@example.com", "secret123").await.body;
    let c = api.login("out@example.com", "secret123").await.body;

    let bad = api
        .post_as("/logout?scope=everything", &token(&a), json!(null))
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["msg"], "Unsupported logout scope \"everything\"");

    let local = api
        .call(api.req_as(reqwest::Method::POST, "/logout?scope=local", &token(&a)))
        .await;
    assert_eq!((local.status, &local.body), (204, &serde_json::Value::Null));
    let gone = api.get_as("/user", &token(&a)).await;
    assert_eq!(gone.status, 403);
    assert_eq!(
        gone.body,
        json!({ "code": 403, "error_code": "session_not_found", "msg": "Session from session_id claim in JWT does not exist" })
    );
    let refresh_gone = api.refresh(a["refresh_token"].as_str().unwrap()).await;
    assert_eq!(refresh_gone.body["error_code"], "refresh_token_not_found");
    assert_eq!(api.get_as("/user", &token(&b)).await.status, 200);

    let others = api
        .call(api.req_as(reqwest::Method::POST, "/logout?scope=others", &token(&b)))
        .await;
    assert_eq!(others.status, 204);
    assert_eq!(api.get_as("/user", &token(&b)).await.status, 200);
    assert_eq!(
        api.get_as("/user", &token(&c)).await.body["error_code"],
        "session_not_found"
    );

    let d = api.login("out@example.com", "secret123").await.body;
    let global = api
        .call(api.req_as(reqwest::Method::POST, "/logout", &token(&d)))
        .await;
    assert_eq!(global.status, 204);
    assert_eq!(
        api.get_as("/user", &token(&b)).await.body["error_code"],
        "session_not_found"
    );
    assert_eq!(
        api.get_as("/user", &token(&d)).await.body["error_code"],
        "session_not_found"
    );
    let again = api
        .call(api.req_as(reqwest::Method::POST, "/logout", &token(&d)))
        .await;
    assert_eq!(
        (again.status, again.body["error_code"].as_str()),
        (403, Some("session_not_found"))
    );
    assert_eq!(jwt_part(&token(&d), 1)["role"], "authenticated");
}
