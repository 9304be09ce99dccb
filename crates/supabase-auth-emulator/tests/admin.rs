//! Admin endpoints with the secret key; role mapping of the API keys.
#![allow(clippy::unwrap_used)]

mod support;

use reqwest::Method;
use serde_json::json;
use support::Api;

#[tokio::test]
async fn admin_requires_the_service_role() {
    let api = Api::start().await;
    let anon = api.get("/admin/users").await;
    assert_eq!(anon.status, 403);
    assert_eq!(
        anon.body,
        json!({ "code": 403, "error_code": "not_admin", "msg": "User not allowed" })
    );
    let user = api.signup("nu@example.com", "secret123").await;
    let as_user = api
        .get_as("/admin/users", user["access_token"].as_str().unwrap())
        .await;
    assert_eq!(as_user.body["error_code"], "not_admin");
    let legacy = api
        .call(
            api.http
                .get(api.url("/admin/users"))
                .header("apikey", api.emu.service_role_key())
                .header(
                    "authorization",
                    format!("Bearer {}", api.emu.service_role_key()),
                ),
        )
        .await;
    assert_eq!(legacy.status, 200);
}

#[tokio::test]
async fn admin_user_lifecycle() {
    let api = Api::start().await;
    let created = api
        .call(api.admin(Method::POST, "/admin/users").json(&json!({
            "email": "Admin.Made@example.com", "password": "pw", "email_confirm": true,
            "user_metadata": { "name": "Ada" }, "app_metadata": { "tier": "gold" }
        })))
        .await;
    assert_eq!(created.status, 200);
    let id = created.body["id"].as_str().unwrap().to_string();
    assert_eq!(created.body["email"], "admin.made@example.com");
    assert_eq!(
        created.body["user_metadata"],
        json!({ "email_verified": true, "name": "Ada" })
    );
    assert_eq!(
        created.body["app_metadata"],
        json!({ "provider": "email", "providers": ["email"], "tier": "gold" })
    );
    assert!(created.body["email_confirmed_at"].is_string());
    // No strength check on admin-created passwords.
    let login = api.login("admin.made@example.com", "pw").await;
    assert_eq!(login.status, 200);
    assert_eq!(
        login.body["weak_password"],
        json!({ "message": "Password should be at least 6 characters.", "reasons": ["length"] })
    );

    let dup = api
        .call(
            api.admin(Method::POST, "/admin/users")
                .json(&json!({ "email": "admin.made@example.com" })),
        )
        .await;
    assert_eq!(
        (dup.status, dup.body["error_code"].as_str()),
        (422, Some("email_exists"))
    );
    let nothing = api
        .call(api.admin(Method::POST, "/admin/users").json(&json!({})))
        .await;
    assert_eq!(
        nothing.body["msg"],
        "Cannot create a user without either an email or phone"
    );

    let got = api
        .call(api.admin(Method::GET, &format!("/admin/users/{id}")))
        .await;
    assert_eq!((got.status, &got.body["id"]), (200, &json!(id)));
    let bad_id = api
        .call(api.admin(Method::GET, "/admin/users/not-a-uuid"))
        .await;
    assert_eq!(bad_id.status, 404);
    assert_eq!(bad_id.body["msg"], "user_id must be an UUID");
    let missing = api
        .call(api.admin(
            Method::GET,
            &format!("/admin/users/{}", uuid::Uuid::new_v4()),
        ))
        .await;
    assert_eq!(
        (missing.status, missing.body["error_code"].as_str()),
        (404, Some("user_not_found"))
    );

    let updated = api
        .call(
            api.admin(Method::PUT, &format!("/admin/users/{id}"))
                .json(&json!({
                    "user_metadata": { "name": null, "team": "core" }, "ban_duration": "24h"
                })),
        )
        .await;
    assert_eq!(updated.status, 200);
    assert_eq!(
        updated.body["user_metadata"],
        json!({ "email_verified": true, "team": "core" })
    );
    assert!(updated.body["banned_until"].is_string());
    let banned = api.login("admin.made@example.com", "pw").await;
    assert_eq!(banned.body["error_code"], "user_banned");
    let session_user = api
        .get_as("/user", login.body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(
        (
            session_user.status,
            session_user.body["error_code"].as_str()
        ),
        (403, Some("user_banned"))
    );

    for n in 0..3 {
        api.emu
            .create_user(&format!("list{n}@example.com"), "secret123")
            .await
            .unwrap();
    }
    let page = api
        .call(api.admin(Method::GET, "/admin/users?page=1&per_page=2"))
        .await;
    assert_eq!(page.status, 200);
    assert_eq!(page.body["aud"], "authenticated");
    assert_eq!(page.body["users"].as_array().unwrap().len(), 2);
    assert_eq!(page.header("x-total-count"), Some("4"));
    let base = format!("{}/admin/users", api.emu.auth_url());
    assert_eq!(
        page.header("link"),
        Some(
            format!(
                "<{base}?page=2&per_page=2>; rel=\"next\", <{base}?page=2&per_page=2>; rel=\"last\""
            )
            .as_str()
        )
    );

    let deleted = api
        .call(
            api.admin(Method::DELETE, &format!("/admin/users/{id}"))
                .json(&json!({ "should_soft_delete": false })),
        )
        .await;
    assert_eq!((deleted.status, &deleted.body), (200, &json!({})));
    let after = api
        .call(api.admin(Method::GET, &format!("/admin/users/{id}")))
        .await;
    assert_eq!(after.status, 404);
}

#[tokio::test]
async fn generate_link_returns_the_properties_without_sending_mail() {
    let api = Api::start().await;
    api.emu
        .create_user("gl@example.com", "secret123")
        .await
        .unwrap();
    let res = api
        .call(
            api.admin(
                Method::POST,
                "/admin/generate_link?redirect_to=http://127.0.0.1:3000/x",
            )
            .json(&json!({ "type": "magiclink", "email": "gl@example.com" })),
        )
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["email"], "gl@example.com");
    assert_eq!(res.body["verification_type"], "magiclink");
    assert_eq!(res.body["redirect_to"], "http://127.0.0.1:3000/x");
    let otp = res.body["email_otp"].as_str().unwrap();
    let hash = res.body["hashed_token"].as_str().unwrap();
    assert_eq!(hash.len(), 56);
    assert_eq!(
        res.body["action_link"],
        format!(
            "{}/verify?token={hash}&type=magiclink&redirect_to=http%3A%2F%2F127.0.0.1%3A3000%2Fx",
            api.emu.auth_url()
        )
    );
    assert!(api.emu.inbox().is_empty());
    let ok = api
        .post(
            "/verify",
            json!({ "type": "email", "email": "gl@example.com", "token": otp }),
        )
        .await;
    assert_eq!(ok.status, 200);

    let recovery = api
        .call(
            api.admin(Method::POST, "/admin/generate_link")
                .json(&json!({ "type": "recovery", "email": "nobody@example.com" })),
        )
        .await;
    assert_eq!(
        (recovery.status, recovery.body["msg"].as_str()),
        (404, Some("User with this email not found"))
    );
    let signup = api
        .call(
            api.admin(Method::POST, "/admin/generate_link")
                .json(&json!({ "type": "signup", "email": "fresh@example.com" })),
        )
        .await;
    assert_eq!(signup.body["msg"], "Signup requires a valid password");
}
