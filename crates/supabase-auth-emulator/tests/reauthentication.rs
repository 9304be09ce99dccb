//! `GET /reauthenticate` and password changes with `secure_password_change`, as
//! GoTrue's `reauthenticate.go` and `UserUpdate` do them.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use supabase_auth_emulator::{Email, EmulatorConfig};
use support::Api;

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

fn token(body: &Value) -> String {
    body["access_token"].as_str().unwrap().to_string()
}

/// Secure password change on, with access tokens that outlive a day so a session can
/// age past GoTrue's 24 h window and still be used.
fn secure() -> EmulatorConfig {
    support::config()
        .secure_password_change(true)
        .jwt_exp(3 * DAY)
}

async fn reauthenticate(api: &Api, session: &Value) -> support::Res {
    api.get_as("/reauthenticate", &token(session)).await
}

/// The newest email, which must be a reauthentication code to `to`.
fn nonce_mail(api: &Api, to: &str) -> Email {
    let mail = api.emu.inbox_for(to).pop().unwrap();
    assert_eq!(
        (mail.kind.as_str(), mail.subject.as_str()),
        ("reauthentication", "Confirm Reauthentication")
    );
    assert_eq!(mail.otp.len(), 6);
    assert!(mail.otp.bytes().all(|b| b.is_ascii_digit()));
    assert!(mail.html.contains(&mail.otp));
    assert_eq!((mail.link.as_str(), mail.token_hash.as_str()), ("", ""));
    mail
}

fn code(res: &support::Res) -> (u16, Option<&str>, Option<&str>) {
    (
        res.status,
        res.body["error_code"].as_str(),
        res.body["msg"].as_str(),
    )
}

#[tokio::test]
async fn reauthenticate_mails_a_code_with_the_frequency_limit() {
    let api = Api::start().await;
    let s = api.signup("re@example.com", "secret123").await;
    let res = reauthenticate(&api, &s).await;
    assert_eq!((res.status, &res.body), (200, &json!({})));
    nonce_mail(&api, "re@example.com");
    assert_eq!(api.emu.inbox().len(), 1);
    let me = api.get_as("/user", &token(&s)).await.body;
    assert!(me["reauthentication_sent_at"].is_string());

    let again = reauthenticate(&api, &s).await;
    assert_eq!(
        code(&again),
        (
            429,
            Some("over_email_send_rate_limit"),
            Some("For security purposes, you can only request this after 1 seconds.")
        )
    );
    api.emu.advance_clock(Duration::from_secs(2));
    assert_eq!(reauthenticate(&api, &s).await.status, 200);
    assert_eq!(api.emu.inbox().len(), 2);
}

#[tokio::test]
async fn reauthenticate_refusals() {
    let api = Api::with(support::config().autoconfirm(false)).await;
    let none = api
        .call(api.req(reqwest::Method::GET, "/reauthenticate"))
        .await;
    assert_eq!(
        code(&none),
        (
            403,
            Some("bad_jwt"),
            Some("invalid claim: missing sub claim")
        )
    );

    let anon = api.post("/signup", json!({})).await.body;
    assert_eq!(
        code(&reauthenticate(&api, &anon).await),
        (
            400,
            Some("validation_failed"),
            Some("Reauthentication requires the user to have an email or a phone number")
        )
    );

    // An unconfirmed address: no session can exist, so sign a token for the user.
    let user = api
        .post(
            "/signup",
            json!({ "email": "unconfirmed@example.com", "password": "secret123" }),
        )
        .await
        .body;
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    let jwt = api
        .emu
        .sign_jwt(&json!({ "sub": user["id"], "role": "authenticated", "aud": "authenticated", "exp": exp }))
        .unwrap();
    let res = api.get_as("/reauthenticate", &jwt).await;
    assert_eq!(
        code(&res),
        (
            422,
            Some("email_not_confirmed"),
            Some("Please verify your email first.")
        )
    );
}

#[tokio::test]
async fn without_secure_password_change_no_nonce_is_needed() {
    let api = Api::with(support::config().jwt_exp(3 * DAY)).await;
    let s = api.signup("plain@example.com", "secret123").await;
    api.emu.advance_clock(DAY + Duration::from_secs(1));
    let res = api
        .put_as(
            "/user",
            &token(&s),
            json!({ "password": "another-secret", "nonce": "000000" }),
        )
        .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
}

#[tokio::test]
async fn a_session_younger_than_a_day_needs_no_nonce() {
    let api = Api::with(secure()).await;
    let s = api.signup("young@example.com", "secret123").await;
    api.emu.advance_clock(DAY - Duration::from_secs(60));
    let res = api
        .put_as("/user", &token(&s), json!({ "password": "another-secret" }))
        .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
}

#[tokio::test]
async fn an_older_session_changes_the_password_only_with_a_valid_nonce() {
    let api = Api::with(secure()).await;
    let s = api.signup("old@example.com", "secret123").await;
    let other = api.login("old@example.com", "secret123").await.body;
    api.emu.advance_clock(DAY + Duration::from_secs(1));
    let put = |body: Value| {
        let t = token(&s);
        let api = &api;
        async move { api.put_as("/user", &t, body).await }
    };

    let missing = put(json!({ "password": "another-secret" })).await;
    assert_eq!(
        code(&missing),
        (
            400,
            Some("reauthentication_needed"),
            Some("Password update requires reauthentication")
        )
    );
    let unrequested = put(json!({ "password": "another-secret", "nonce": "123456" })).await;
    assert_eq!(
        code(&unrequested),
        (
            422,
            Some("reauthentication_not_valid"),
            Some("Nonce has expired or is invalid")
        )
    );

    assert_eq!(reauthenticate(&api, &s).await.status, 200);
    let nonce = nonce_mail(&api, "old@example.com").otp;
    let wrong_code = if nonce == "000000" {
        "000001"
    } else {
        "000000"
    };
    let wrong = put(json!({ "password": "another-secret", "nonce": wrong_code })).await;
    assert_eq!(code(&wrong).1, Some("reauthentication_not_valid"));
    // Other changes need no nonce.
    let meta = put(json!({ "data": { "k": 1 } })).await;
    assert_eq!(meta.status, 200);

    let ok = put(json!({ "password": "another-secret", "nonce": nonce })).await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    // `UpdatePassword` forgets the reauthentication time; other sessions are gone.
    assert!(ok.body.get("reauthentication_sent_at").is_none());
    assert_eq!(
        api.login("old@example.com", "another-secret").await.status,
        200
    );
    assert_eq!(
        api.get_as("/user", &token(&other)).await.body["error_code"],
        "session_not_found"
    );

    let reused = put(json!({ "password": "third-secret", "nonce": nonce })).await;
    assert_eq!(code(&reused).1, Some("reauthentication_not_valid"));
}

#[tokio::test]
async fn a_nonce_is_spent_even_when_the_new_password_is_refused() {
    let api = Api::with(secure()).await;
    let s = api.signup("same@example.com", "secret123").await;
    api.emu.advance_clock(DAY + Duration::from_secs(1));
    reauthenticate(&api, &s).await;
    let nonce = nonce_mail(&api, "same@example.com").otp;
    let same = api
        .put_as(
            "/user",
            &token(&s),
            json!({ "password": "secret123", "nonce": nonce }),
        )
        .await;
    assert_eq!(code(&same).1, Some("same_password"));
    let after = api
        .put_as(
            "/user",
            &token(&s),
            json!({ "password": "another-secret", "nonce": nonce }),
        )
        .await;
    assert_eq!(code(&after).1, Some("reauthentication_not_valid"));
}

#[tokio::test]
async fn a_nonce_expires_with_otp_exp() {
    let api = Api::with(secure().otp_exp(Duration::from_secs(300))).await;
    let s = api.signup("late@example.com", "secret123").await;
    api.emu.advance_clock(DAY + Duration::from_secs(1));
    reauthenticate(&api, &s).await;
    let nonce = nonce_mail(&api, "late@example.com").otp;
    api.emu.advance_clock(Duration::from_secs(301));
    let res = api
        .put_as(
            "/user",
            &token(&s),
            json!({ "password": "another-secret", "nonce": nonce }),
        )
        .await;
    assert_eq!(code(&res).1, Some("reauthentication_not_valid"));
}

#[tokio::test]
async fn a_token_without_a_session_always_needs_a_nonce() {
    let api = Api::with(secure()).await;
    let s = api.signup("nosession@example.com", "secret123").await;
    let mut claims = support::jwt_part(&token(&s), 1);
    claims.as_object_mut().unwrap().remove("session_id");
    let jwt = api.emu.sign_jwt(&claims).unwrap();
    let res = api
        .put_as("/user", &jwt, json!({ "password": "another-secret" }))
        .await;
    assert_eq!(code(&res).1, Some("reauthentication_needed"));
}

#[tokio::test]
async fn an_empty_password_is_a_weak_one() {
    let api = Api::start().await;
    let s = api.signup("empty@example.com", "secret123").await;
    let res = api
        .put_as("/user", &token(&s), json!({ "password": "" }))
        .await;
    assert_eq!(
        (res.status, res.body["error_code"].as_str()),
        (422, Some("weak_password"))
    );
    assert_eq!(res.body["weak_password"], json!({ "reasons": ["length"] }));
}
