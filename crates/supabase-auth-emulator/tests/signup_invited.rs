//! `POST /signup` for an address whose user exists unconfirmed (an invited user), as
//! GoTrue's `Signup` handles it.
#![allow(clippy::unwrap_used)]

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::{Api, jwt_part};

/// Invites `address` and returns the invite email's token hash.
async fn invite(api: &Api, address: &str) -> String {
    let res = api
        .call(
            api.admin(Method::POST, "/invite")
                .json(&json!({ "email": address, "data": { "team": "core" } })),
        )
        .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    let mail = api.emu.inbox_for(address).pop().unwrap();
    assert_eq!(mail.kind, "invite");
    mail.token_hash
}

async fn signup(api: &Api, address: &str) -> support::Res {
    api.post(
        "/signup",
        json!({ "email": address, "password": "chosen-secret", "data": { "plan": "pro" } }),
    )
    .await
}

#[tokio::test]
async fn under_autoconfirm_an_invited_address_is_confirmed_and_signed_in() {
    let api = Api::start().await;
    let invite_hash = invite(&api, "inv@example.com").await;
    let res = signup(&api, "inv@example.com").await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    let keys: Vec<&str> = res
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "access_token",
            "token_type",
            "expires_in",
            "expires_at",
            "refresh_token",
            "user"
        ]
    );
    let user = &res.body["user"];
    assert_eq!(user["email"], "inv@example.com");
    assert!(user["email_confirmed_at"].is_string());
    assert!(user["invited_at"].is_string());
    assert!(user["last_sign_in_at"].is_string());
    // GoTrue does not update the row from the signup request: its `data` is not kept.
    assert_eq!(
        user["user_metadata"],
        json!({
            "email": "inv@example.com",
            "email_verified": true,
            "phone_verified": false,
            "sub": user["id"],
            "team": "core",
        })
    );
    assert_eq!(user["identities"].as_array().unwrap().len(), 1);
    let access = res.body["access_token"].as_str().unwrap();
    assert_eq!(jwt_part(access, 1)["amr"][0]["method"], "password");
    assert_eq!(api.get_as("/user", access).await.status, 200);
    assert_eq!(api.emu.inbox().len(), 1, "no confirmation mail");

    // The invite link is void now.
    let late = api
        .post(
            "/verify",
            json!({ "type": "invite", "token_hash": invite_hash }),
        )
        .await;
    assert_eq!(late.body["error_code"], "otp_expired");
    // Nor is the password of the signup stored ("we can't be sure of their claimed
    // identity"): the invited user has none until they set one.
    let login = api.login("inv@example.com", "chosen-secret").await;
    assert_eq!(
        (login.status, login.body["error_code"].as_str()),
        (400, Some("invalid_credentials"))
    );
    let set = api
        .put_as("/user", access, json!({ "password": "chosen-secret" }))
        .await;
    assert_eq!(set.status, 200);
    assert_eq!(
        api.login("inv@example.com", "chosen-secret").await.status,
        200
    );

    // Confirmed now, so a second signup is a duplicate.
    let again = signup(&api, "inv@example.com").await;
    assert_eq!(
        (again.status, again.body["error_code"].as_str()),
        (422, Some("user_already_exists"))
    );
}

#[tokio::test]
async fn without_autoconfirm_a_confirmation_goes_out_and_the_answer_hides_the_invite() {
    let api = Api::with(support::config().autoconfirm(false)).await;
    invite(&api, "inv@example.com").await;
    // The invite set `confirmation_sent_at`, which the signup mail's frequency limit reads.
    let early = signup(&api, "inv@example.com").await;
    assert_eq!(early.body["error_code"], "over_email_send_rate_limit");
    api.emu.advance_clock(std::time::Duration::from_secs(2));
    let res = signup(&api, "inv@example.com").await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    assert!(res.body.get("access_token").is_none());
    assert_eq!(res.body["email"], "inv@example.com");
    assert!(res.body.get("email_confirmed_at").is_none());
    assert_eq!(res.body["user_metadata"], json!({}));
    assert_eq!(res.body["identities"], json!([]));
    let mail = api.emu.inbox_for("inv@example.com").pop().unwrap();
    assert_eq!(
        (mail.kind.as_str(), mail.subject.as_str()),
        ("signup", "Confirm Your Signup")
    );
    let verified = api
        .post(
            "/verify",
            json!({ "type": "signup", "token_hash": mail.token_hash }),
        )
        .await;
    assert_eq!(verified.status, 200);
    let user: &Value = &verified.body["user"];
    assert!(user["email_confirmed_at"].is_string());
}
