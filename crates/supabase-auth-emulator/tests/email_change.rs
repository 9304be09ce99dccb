//! `PUT /user {email}` and the `email_change` verification, as GoTrue's `UserUpdate`,
//! `sendEmailChange` and `emailChangeVerify` do them.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use supabase_auth_emulator::Email;
use support::{Api, jwt_part, pairs, pkce_pair};

const FIRST_HALF: &str =
    "Confirmation link accepted. Please proceed to confirm link sent to the other email";

fn token(body: &Value) -> String {
    body["access_token"].as_str().unwrap().to_string()
}

fn location(res: &support::Res) -> url::Url {
    url::Url::parse(res.header("location").unwrap()).unwrap()
}

/// The one email to `to`, which must be an email-change confirmation.
fn change_mail(api: &Api, to: &str) -> Email {
    let mut mails = api.emu.inbox_for(to);
    assert_eq!(mails.len(), 1, "mails to {to}: {mails:?}");
    let mail = mails.pop().unwrap();
    assert_eq!(
        (mail.kind.as_str(), mail.subject.as_str()),
        ("email_change", "Confirm Email Change")
    );
    assert_eq!(mail.otp.len(), 6);
    assert!(mail.html.contains(&mail.otp));
    assert_eq!(
        mail.link,
        format!(
            "{}/verify?token={}&type=email_change&redirect_to=http%3A%2F%2F127.0.0.1%3A3000",
            api.emu.auth_url(),
            mail.token_hash
        )
    );
    mail
}

fn email_identity(user: &Value) -> &Value {
    user["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["provider"] == "email")
        .unwrap()
}

/// Signs up `old@example.com` and asks to move it to `new@example.com`; returns the
/// session and the `PUT /user` answer.
async fn request_change(api: &Api) -> (Value, support::Res) {
    let s = api.signup("old@example.com", "secret123").await;
    assert!(
        api.emu.inbox().is_empty(),
        "autoconfirm signup sends nothing"
    );
    let res = api
        .put_as("/user", &token(&s), json!({ "email": "New@Example.com" }))
        .await;
    (s, res)
}

#[tokio::test]
async fn a_permanent_user_confirms_a_new_address_even_under_autoconfirm() {
    let api = Api::start().await;
    let (s, res) = request_change(&api).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["email"], "old@example.com");
    assert_eq!(res.body["new_email"], "new@example.com");
    assert!(res.body["email_change_sent_at"].is_string());
    assert_eq!(
        res.body["email_confirmed_at"],
        s["user"]["email_confirmed_at"]
    );
    let me = api.get_as("/user", &token(&s)).await.body;
    assert_eq!(
        (&me["email"], &me["new_email"]),
        (&json!("old@example.com"), &json!("new@example.com"))
    );

    // Secure email change: one message to each address, each with its own code.
    let to_new = change_mail(&api, "new@example.com");
    let to_old = change_mail(&api, "old@example.com");
    assert_eq!(api.emu.inbox().len(), 2);
    assert_ne!(to_new.token_hash, to_old.token_hash);

    // With autoconfirm on, GoTrue completes the change at the first confirmation
    // (supabase/auth#2600): here the code sent to the current address.
    let done = api
        .post(
            "/verify",
            json!({ "type": "email_change", "email": "old@example.com", "token": to_old.otp }),
        )
        .await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    let user = &done.body["user"];
    assert_eq!(user["email"], "new@example.com");
    assert!(user.get("new_email").is_none());
    assert!(user["email_change_sent_at"].is_string());
    assert_eq!(user["email_confirmed_at"], s["user"]["email_confirmed_at"]);
    assert_eq!(
        email_identity(user)["identity_data"]["email"],
        "new@example.com"
    );
    assert_eq!(
        email_identity(user)["identity_data"]["email_verified"],
        true
    );
    assert_eq!(email_identity(user)["email"], "new@example.com");
    assert_eq!(jwt_part(&token(&done.body), 1)["amr"][0]["method"], "otp");

    // ... which voids the other message.
    let other = api
        .post(
            "/verify",
            json!({ "type": "email_change", "token_hash": to_new.token_hash }),
        )
        .await;
    assert_eq!(
        (
            other.status,
            other.body["error_code"].as_str(),
            other.body["msg"].as_str()
        ),
        (
            403,
            Some("otp_expired"),
            Some("Email link is invalid or has expired")
        )
    );
    assert_eq!(api.login("new@example.com", "secret123").await.status, 200);
    assert_eq!(api.login("old@example.com", "secret123").await.status, 400);
}

#[tokio::test]
async fn with_confirmations_on_both_addresses_must_confirm() {
    let api = Api::with(support::config().autoconfirm(false)).await;
    api.emu
        .create_user("old@example.com", "secret123")
        .await
        .unwrap();
    let s = api.login("old@example.com", "secret123").await.body;
    let res = api
        .put_as("/user", &token(&s), json!({ "email": "new@example.com" }))
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["new_email"], "new@example.com");
    let to_new = change_mail(&api, "new@example.com");
    let to_old = change_mail(&api, "old@example.com");

    // The first link answers the intermediate message and changes nothing yet.
    let first = api.call(api.http.get(&to_new.link)).await;
    assert_eq!(first.status, 303);
    let loc = location(&first);
    assert_eq!(loc.query(), None);
    assert_eq!(
        pairs(loc.fragment().unwrap()),
        [
            ("message".into(), FIRST_HALF.into()),
            ("sb".into(), String::new())
        ]
    );
    let me = api.get_as("/user", &token(&s)).await.body;
    assert_eq!(
        (&me["email"], &me["new_email"]),
        (&json!("old@example.com"), &json!("new@example.com"))
    );
    // The same link again is spent.
    let again = api
        .post(
            "/verify",
            json!({ "type": "email_change", "token_hash": to_new.token_hash }),
        )
        .await;
    assert_eq!(again.body["error_code"], "otp_expired");

    // The second confirmation (a code this time) completes it and signs in.
    let second = api
        .post(
            "/verify",
            json!({ "type": "email_change", "email": "old@example.com", "token": to_old.otp }),
        )
        .await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    assert_eq!(second.body["user"]["email"], "new@example.com");
    assert!(second.body["user"].get("new_email").is_none());
    let me = api.get_as("/user", &token(&s)).await.body;
    assert_eq!(me["email"], "new@example.com");
}

#[tokio::test]
async fn the_first_half_over_post_answers_the_message_json() {
    let api = Api::with(support::config().autoconfirm(false)).await;
    api.emu
        .create_user("old@example.com", "secret123")
        .await
        .unwrap();
    let s = api.login("old@example.com", "secret123").await.body;
    api.put_as("/user", &token(&s), json!({ "email": "new@example.com" }))
        .await;
    let to_old = change_mail(&api, "old@example.com");
    let first = api
        .post(
            "/verify",
            json!({ "type": "email_change", "token_hash": to_old.token_hash }),
        )
        .await;
    assert_eq!(
        (first.status, &first.body),
        (200, &json!({ "msg": FIRST_HALF, "code": "200" }))
    );
}

#[tokio::test]
async fn without_secure_change_only_the_new_address_gets_a_message() {
    let api = Api::with(support::config().secure_email_change(false)).await;
    let (s, res) = request_change(&api).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["new_email"], "new@example.com");
    let to_new = change_mail(&api, "new@example.com");
    assert_eq!(api.emu.inbox().len(), 1);

    let followed = api.call(api.http.get(&to_new.link)).await;
    assert_eq!(followed.status, 303);
    let frag = pairs(location(&followed).fragment().unwrap());
    assert_eq!(
        frag.last().unwrap(),
        &("type".into(), "email_change".into())
    );
    let me = api.get_as("/user", &token(&s)).await.body;
    assert_eq!(me["email"], "new@example.com");
    assert!(me.get("new_email").is_none());
}

#[tokio::test]
async fn a_pkce_change_redirects_with_a_code() {
    let api = Api::start().await;
    let s = api.signup("old@example.com", "secret123").await;
    let (verifier, challenge) = pkce_pair();
    let res = api
        .put_as(
            "/user",
            &token(&s),
            json!({ "email": "new@example.com", "code_challenge": challenge, "code_challenge_method": "s256" }),
        )
        .await;
    assert_eq!(res.status, 200);
    let to_new = change_mail(&api, "new@example.com");
    assert!(to_new.token_hash.starts_with("pkce_"));
    let followed = api.call(api.http.get(&to_new.link)).await;
    let code = pairs(location(&followed).query().unwrap())
        .into_iter()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1;
    let session = api
        .post(
            "/token?grant_type=pkce",
            json!({ "auth_code": code, "code_verifier": verifier }),
        )
        .await;
    assert_eq!(session.status, 200, "{:?}", session.body);
    assert_eq!(session.body["user"]["email"], "new@example.com");
    assert_eq!(
        jwt_part(&token(&session.body), 1)["amr"][0]["method"],
        "email_change"
    );
}

#[tokio::test]
async fn anonymous_users_get_the_address_at_once_under_autoconfirm() {
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
    assert!(res.body["email_confirmed_at"].is_string());
    assert!(res.body.get("new_email").is_none());
    assert_eq!(res.body["is_anonymous"], false);
    assert_eq!(res.body["user_metadata"], json!({ "email_verified": true }));
    // `UserUpdate` does not recompute the providers on this path; `/verify` would.
    assert_eq!(res.body["app_metadata"], json!({}));
    assert_eq!(
        email_identity(&res.body)["identity_data"],
        json!({
            "email": "conv@example.com",
            "email_verified": true,
            "phone_verified": false,
            "sub": anon["user"]["id"],
        })
    );
    assert!(api.emu.inbox().is_empty());
}

#[tokio::test]
async fn anonymous_users_confirm_the_one_address_they_add_without_autoconfirm() {
    let api = Api::with(support::config().autoconfirm(false)).await;
    let anon = api.post("/signup", json!({})).await.body;
    let res = api
        .put_as(
            "/user",
            &token(&anon),
            json!({ "email": "conv@example.com" }),
        )
        .await;
    assert_eq!((res.status, &res.body["email"]), (200, &json!("")));
    assert_eq!(res.body["new_email"], "conv@example.com");
    let mail = change_mail(&api, "conv@example.com");
    assert_eq!(api.emu.inbox().len(), 1);
    let done = api
        .post(
            "/verify",
            json!({ "type": "email_change", "token_hash": mail.token_hash }),
        )
        .await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert_eq!(done.body["user"]["email"], "conv@example.com");
    assert_eq!(done.body["user"]["is_anonymous"], false);
    assert_eq!(
        done.body["user"]["app_metadata"],
        json!({ "provider": "email", "providers": ["email"] })
    );
}

#[tokio::test]
async fn a_second_request_inside_the_frequency_window_is_refused() {
    let api = Api::with(support::config().email_max_frequency(Duration::from_secs(60))).await;
    let (s, first) = request_change(&api).await;
    assert_eq!(first.status, 200);
    let second = api
        .put_as("/user", &token(&s), json!({ "email": "other@example.com" }))
        .await;
    assert_eq!(
        (second.status, second.body["error_code"].as_str()),
        (429, Some("over_email_send_rate_limit"))
    );
    assert_eq!(api.emu.inbox().len(), 2);
    api.emu.advance_clock(Duration::from_secs(61));
    let third = api
        .put_as("/user", &token(&s), json!({ "email": "other@example.com" }))
        .await;
    assert_eq!(third.body["new_email"], "other@example.com");
}

#[tokio::test]
async fn a_taken_address_is_refused_before_any_mail() {
    let api = Api::start().await;
    api.signup("taken@example.com", "secret123").await;
    let s = api.signup("mine@example.com", "secret123").await;
    let res = api
        .put_as(
            "/user",
            &token(&s),
            json!({ "email": "taken@example.com", "password": "another-secret" }),
        )
        .await;
    assert_eq!(
        (res.status, res.body["error_code"].as_str()),
        (422, Some("email_exists"))
    );
    assert!(api.emu.inbox().is_empty());
    // The password was not changed either.
    assert_eq!(api.login("mine@example.com", "secret123").await.status, 200);
}

#[tokio::test]
async fn a_password_change_voids_a_pending_email_change() {
    let api = Api::start().await;
    let (s, _) = request_change(&api).await;
    let to_new = change_mail(&api, "new@example.com");
    let res = api
        .put_as("/user", &token(&s), json!({ "password": "changed-secret" }))
        .await;
    assert_eq!(res.status, 200);
    // `User.UpdatePassword` clears the tokens and their times, not `new_email`.
    assert!(res.body.get("email_change_sent_at").is_none());
    assert_eq!(res.body["new_email"], "new@example.com");
    let late = api
        .post(
            "/verify",
            json!({ "type": "email_change", "token_hash": to_new.token_hash }),
        )
        .await;
    assert_eq!(late.body["error_code"], "otp_expired");
}
