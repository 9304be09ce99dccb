//! The admin API for a user's MFA factors (`/admin/users/{id}/factors`).
#![allow(clippy::unwrap_used)]

mod support;

use reqwest::Method;
use serde_json::json;
use support::Api;
use support::mfa::{claims, error, user, verified};

#[tokio::test]
async fn admin_lists_renames_and_deletes_factors() {
    let api = Api::start().await;
    let u = user(&api, "admin-mfa@example.com").await;
    let uid = u.session["user"]["id"].as_str().unwrap().to_string();
    let list = || api.call(api.admin(Method::GET, &format!("/admin/users/{uid}/factors")));
    assert_eq!(list().await.body, json!([]));
    let (factor, _, s) = verified(&api, &u, "app").await;
    let listed = list().await.body;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], json!(factor));
    assert!(listed[0].get("secret").is_none());
    // One user is loaded with its factors; the user list is not (GoTrue loads eagerly
    // only the former).
    let one_user = api
        .call(api.admin(Method::GET, &format!("/admin/users/{uid}")))
        .await;
    assert_eq!(one_user.body["factors"], listed);
    let users = api.call(api.admin(Method::GET, "/admin/users")).await;
    assert_eq!(users.body["users"][0]["id"], json!(uid));
    assert!(users.body["users"][0].get("factors").is_none());

    let one = format!("/admin/users/{uid}/factors/{factor}");
    let renamed = api
        .call(
            api.admin(Method::PUT, &one)
                .json(&json!({ "friendly_name": "work phone" })),
        )
        .await;
    assert_eq!(renamed.body["friendly_name"], "work phone");
    let deleted = api.call(api.admin(Method::DELETE, &one)).await;
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.body["id"], json!(factor));
    assert_eq!(deleted.body["status"], "verified");
    assert_eq!(list().await.body, json!([]));
    let r = api.refresh(s["refresh_token"].as_str().unwrap()).await;
    assert_eq!(claims(&r.body)["aal"], "aal1");

    let missing = api.call(api.admin(Method::DELETE, &one)).await;
    assert_eq!(
        error(&missing),
        (404, "mfa_factor_not_found", "Factor not found")
    );
    let bad_user = api
        .call(api.admin(Method::GET, "/admin/users/nope/factors"))
        .await;
    assert_eq!(
        error(&bad_user),
        (404, "validation_failed", "user_id must be an UUID")
    );
    let not_admin = api
        .get_as(&format!("/admin/users/{uid}/factors"), u.token())
        .await;
    assert_eq!(error(&not_admin).1, "not_admin");
}
