//! Phone sign-up and sign-in: SMS codes in the inbox, `/otp`, `/verify` types `sms` and
//! `phone_change`, the password grant with `phone`, `/resend`, and GoTrue's errors.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{Api, Res, jwt_part};

const INVALID_PHONE: &str = "Invalid phone number format (E.164 required)";

fn error_of(res: &Res) -> (u16, &str, &str) {
    (
        res.status,
        res.body["error_code"].as_str().unwrap_or(""),
        res.body["msg"].as_str().unwrap_or(""),
    )
}

fn amr(session: &Value) -> String {
    let token = session["access_token"].as_str().unwrap();
    jwt_part(token, 1)["amr"][0]["method"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The code of the newest SMS to `phone`, read over HTTP as a test would.
async fn latest_sms(api: &Api, phone: &str) -> Value {
    let url = format!("{}/inbox/api/messages/latest", api.emu.url());
    let res = api.call(api.http.get(url).query(&[("to", phone)])).await;
    assert_eq!(res.status, 200, "no SMS to {phone}: {:?}", res.body);
    res.body
}

async fn verify(api: &Api, phone: &str, token: &str, kind: &str) -> Res {
    api.post(
        "/verify",
        json!({ "phone": phone, "token": token, "type": kind }),
    )
    .await
}

async fn password_login(api: &Api, phone: &str, password: &str) -> Res {
    api.post(
        "/token?grant_type=password",
        json!({ "phone": phone, "password": password }),
    )
    .await
}

#[tokio::test]
async fn signup_under_autoconfirm_answers_a_confirmed_session() {
    let api = Api::start().await;
    let res = api
        .post(
            "/signup",
            json!({ "phone": "+1 555 555 0100", "password": "secret123", "data": { "name": "Ann" } }),
        )
        .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    let user = &res.body["user"];
    assert_eq!(user["phone"], "15555550100");
    assert_eq!(user["email"], "");
    assert!(user["phone_confirmed_at"].is_string());
    assert!(user.get("email_confirmed_at").is_none());
    assert_eq!(
        user["app_metadata"],
        json!({ "provider": "phone", "providers": ["phone"] })
    );
    let id = user["id"].as_str().unwrap();
    // `structs.Map(Claims{Subject, Email: ""})` plus `data`: no `phone` key.
    let identity_data = json!({
        "email_verified": false,
        "name": "Ann",
        "phone_verified": false,
        "sub": id,
    });
    assert_eq!(user["user_metadata"], identity_data);
    let identities = user["identities"].as_array().unwrap();
    assert_eq!(identities.len(), 1);
    assert_eq!(identities[0]["provider"], "phone");
    assert_eq!(identities[0]["id"], id);
    assert_eq!(identities[0]["identity_data"], identity_data);
    assert!(identities[0].get("email").is_none());
    assert_eq!(amr(&res.body), "password");
    let claims = jwt_part(res.body["access_token"].as_str().unwrap(), 1);
    assert_eq!(claims["phone"], "15555550100");
    assert!(api.emu.inbox().is_empty());

    // Password sign-in; `+` and spaces are dropped as GoTrue's `formatPhoneNumber` does.
    let ok = password_login(&api, "+15555550100", "secret123").await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(ok.body["user"]["id"], id);
    assert_eq!(amr(&ok.body), "password");
    let wrong = password_login(&api, "+15555550100", "wrong-pass").await;
    assert_eq!(
        error_of(&wrong),
        (400, "invalid_credentials", "Invalid login credentials")
    );
    let unknown = password_login(&api, "+15555550199", "secret123").await;
    assert_eq!(
        error_of(&unknown),
        (400, "invalid_credentials", "Invalid login credentials")
    );

    // A second sign-up of a confirmed number under autoconfirm.
    let again = api
        .post(
            "/signup",
            json!({ "phone": "15555550100", "password": "secret123" }),
        )
        .await;
    assert_eq!(
        error_of(&again),
        (422, "user_already_exists", "User already registered")
    );
}

#[tokio::test]
async fn signup_with_confirmations_sends_a_code_that_confirms() {
    let api = Api::with(support::config().phone_autoconfirm(false)).await;
    let res = api
        .post(
            "/signup",
            json!({ "phone": "+15555550101", "password": "secret123" }),
        )
        .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    assert!(res.body.get("access_token").is_none());
    assert_eq!(res.body["phone"], "15555550101");
    assert!(res.body["confirmation_sent_at"].is_string());
    assert!(res.body.get("phone_confirmed_at").is_none());
    assert_eq!(res.body["identities"][0]["provider"], "phone");

    let sms = latest_sms(&api, "+15555550101").await;
    assert_eq!(sms["to"], "+15555550101");
    assert_eq!(sms["kind"], "sms");
    assert_eq!(sms["channel"], "sms");
    assert_eq!(sms["subject"], "");
    assert_eq!(sms["link"], "");
    assert_eq!(sms["token_hash"], "");
    let code = sms["otp"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 6);
    assert!(code.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(sms["body"], format!("Your code is {code}"));

    let unconfirmed = password_login(&api, "+15555550101", "secret123").await;
    assert_eq!(
        error_of(&unconfirmed),
        (400, "phone_not_confirmed", "Phone not confirmed")
    );
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let bad = verify(&api, "+15555550101", wrong, "sms").await;
    assert_eq!(
        error_of(&bad),
        (403, "otp_expired", "Token has expired or is invalid")
    );

    let ok = verify(&api, "+15555550101", &code, "sms").await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(amr(&ok.body), "otp");
    assert!(ok.body["user"]["phone_confirmed_at"].is_string());
    assert_eq!(
        ok.body["user"]["confirmed_at"],
        ok.body["user"]["phone_confirmed_at"]
    );
    // A code is good once.
    let replay = verify(&api, "+15555550101", &code, "sms").await;
    assert_eq!(error_of(&replay).1, "otp_expired");

    let login = password_login(&api, "15555550101", "secret123").await;
    assert_eq!(login.status, 200, "{:?}", login.body);

    // Mailer autoconfirm (on) makes a repeated sign-up an error even here.
    let again = api
        .post(
            "/signup",
            json!({ "phone": "+15555550101", "password": "secret123" }),
        )
        .await;
    assert_eq!(error_of(&again).0, 422);
}

#[tokio::test]
async fn repeated_signup_without_any_autoconfirm_answers_a_sanitized_user() {
    let api = Api::with(
        support::config()
            .autoconfirm(false)
            .phone_autoconfirm(false),
    )
    .await;
    let created = api
        .admin(reqwest::Method::POST, "/admin/users")
        .json(&json!({ "phone": "+15555550102", "password": "secret123", "phone_confirm": true }));
    let created = api.call(created).await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let res = api
        .post(
            "/signup",
            json!({ "phone": "+15555550102", "password": "other123", "data": { "x": 1 } }),
        )
        .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    assert_ne!(res.body["id"], created.body["id"]);
    assert_eq!(res.body["phone"], "15555550102");
    assert_eq!(res.body["role"], "");
    assert_eq!(res.body["identities"], json!([]));
    assert_eq!(res.body["user_metadata"], json!({ "x": 1 }));
    assert!(api.emu.inbox().is_empty());
}

#[tokio::test]
async fn otp_signs_in_and_creates_the_user() {
    let api = Api::start().await;
    let sent = api.post("/otp", json!({ "phone": "+15555550103" })).await;
    assert_eq!((sent.status, &sent.body), (200, &json!({})));
    let sms = latest_sms(&api, "15555550103").await;
    assert_eq!(sms["kind"], "sms");
    let code = sms["otp"].as_str().unwrap();

    let ok = verify(&api, "+15555550103", code, "sms").await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(amr(&ok.body), "otp");
    let user = &ok.body["user"];
    assert_eq!(user["phone"], "15555550103");
    assert!(user["phone_confirmed_at"].is_string());
    assert_eq!(user["identities"][0]["provider"], "phone");
    assert_eq!(user["app_metadata"]["provider"], "phone");

    // `sendPhoneConfirmation`'s frequency limit (5 s, as the CLI).
    let soon = api.post("/otp", json!({ "phone": "+15555550103" })).await;
    assert_eq!(
        error_of(&soon),
        (
            429,
            "over_sms_send_rate_limit",
            "For security purposes, you can only request this after 5 seconds."
        )
    );
    api.emu.advance_clock(Duration::from_secs(6));
    let later = api
        .post(
            "/otp",
            json!({ "phone": "+15555550103", "create_user": false }),
        )
        .await;
    assert_eq!(later.status, 200, "{:?}", later.body);
    assert_eq!(api.emu.inbox_for("+15555550103").len(), 2);
}

#[tokio::test]
async fn otp_checks_as_gotrue() {
    let api = Api::start().await;
    let no_user = api
        .post(
            "/otp",
            json!({ "phone": "+15555550104", "create_user": false }),
        )
        .await;
    assert_eq!(
        error_of(&no_user),
        (422, "otp_disabled", "Signups not allowed for otp")
    );
    for bad in ["+1-555-555-0104", "0123456", "+", "1"] {
        let res = api.post("/otp", json!({ "phone": bad })).await;
        assert_eq!(
            error_of(&res),
            (400, "validation_failed", INVALID_PHONE),
            "{bad}"
        );
    }
    let whatsapp = api
        .post(
            "/otp",
            json!({ "phone": "+15555550104", "channel": "whatsapp" }),
        )
        .await;
    assert_eq!(
        error_of(&whatsapp),
        (
            400,
            "validation_failed",
            "Invalid channel, supported values are 'sms' or 'whatsapp'. 'whatsapp' is only supported if Twilio or Twilio Verify is used as the provider."
        )
    );
    let both = api
        .post(
            "/otp",
            json!({ "phone": "+15555550104", "email": "a@example.com" }),
        )
        .await;
    assert_eq!(
        error_of(&both),
        (
            400,
            "validation_failed",
            "Only an email address or phone number should be provided"
        )
    );
    let bad_verify = verify(&api, "12", "123456", "sms").await;
    assert_eq!(
        error_of(&bad_verify),
        (403, "otp_expired", "Token has expired or is invalid")
    );
    let invalid_verify = verify(&api, "abc", "123456", "sms").await;
    assert_eq!(
        error_of(&invalid_verify),
        (400, "validation_failed", INVALID_PHONE)
    );
    let hash_verify = api
        .post("/verify", json!({ "token_hash": "abc", "type": "sms" }))
        .await;
    assert_eq!(
        error_of(&hash_verify),
        (400, "validation_failed", "Invalid email verification type")
    );
    let pkce = api
        .post(
            "/signup",
            json!({ "phone": "+15555550104", "password": "secret123", "code_challenge": "x".repeat(43), "code_challenge_method": "s256" }),
        )
        .await;
    assert_eq!(
        error_of(&pkce),
        (
            400,
            "validation_failed",
            "PKCE not supported for phone signups"
        )
    );
    assert!(api.emu.inbox().is_empty());
}

#[tokio::test]
async fn with_the_provider_off_phone_flows_are_refused_as_gotrue() {
    let api = Api::with(support::config().phone_provider(false)).await;
    let signup = api
        .post(
            "/signup",
            json!({ "phone": "+15555550105", "password": "secret123" }),
        )
        .await;
    assert_eq!(
        error_of(&signup),
        (400, "phone_provider_disabled", "Phone signups are disabled")
    );
    let otp = api.post("/otp", json!({ "phone": "+15555550105" })).await;
    assert_eq!(
        error_of(&otp),
        (400, "phone_provider_disabled", "Unsupported phone provider")
    );
    let login = password_login(&api, "+15555550105", "secret123").await;
    assert_eq!(
        error_of(&login),
        (422, "phone_provider_disabled", "Phone logins are disabled")
    );
    let resend = api
        .post("/resend", json!({ "type": "sms", "phone": "+15555550105" }))
        .await;
    assert_eq!(
        error_of(&resend),
        (400, "phone_provider_disabled", "Phone logins are disabled")
    );
    let settings = api.get("/settings").await;
    assert_eq!(settings.body["external"]["phone"], false);

    let on = Api::start().await;
    let settings = on.get("/settings").await;
    assert_eq!(settings.body["external"]["phone"], true);
    assert_eq!(settings.body["phone_autoconfirm"], true);
}

#[tokio::test]
async fn admin_created_phone_users_sign_in_with_password_and_code() {
    let api = Api::start().await;
    let req = api
        .admin(reqwest::Method::POST, "/admin/users")
        .json(&json!({ "phone": "+15555550106", "password": "secret123", "phone_confirm": true }));
    let created = api.call(req).await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();

    let login = password_login(&api, "+15555550106", "secret123").await;
    assert_eq!(login.status, 200, "{:?}", login.body);
    assert_eq!(login.body["user"]["id"], id);

    let sent = api
        .post(
            "/otp",
            json!({ "phone": "+15555550106", "create_user": false }),
        )
        .await;
    assert_eq!(sent.status, 200, "{:?}", sent.body);
    let code = latest_sms(&api, "+15555550106").await["otp"]
        .as_str()
        .unwrap()
        .to_string();
    let ok = verify(&api, "15555550106", &code, "sms").await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(ok.body["user"]["id"], id);
    assert_eq!(amr(&ok.body), "otp");

    // Unconfirmed: the password is right but the number is not confirmed.
    let req = api
        .admin(reqwest::Method::POST, "/admin/users")
        .json(&json!({ "phone": "+15555550107", "password": "secret123" }));
    assert_eq!(api.call(req).await.status, 200);
    let login = password_login(&api, "+15555550107", "secret123").await;
    assert_eq!(
        error_of(&login),
        (400, "phone_not_confirmed", "Phone not confirmed")
    );
}

#[tokio::test]
async fn resend_sends_a_new_code_only_while_unconfirmed() {
    let api = Api::with(support::config().phone_autoconfirm(false)).await;
    let res = api
        .post(
            "/signup",
            json!({ "phone": "+15555550108", "password": "secret123" }),
        )
        .await;
    assert_eq!(res.status, 200);
    let resend = json!({ "type": "sms", "phone": "+15555550108" });
    let soon = api.post("/resend", resend.clone()).await;
    assert_eq!(error_of(&soon).1, "over_sms_send_rate_limit");
    api.emu.advance_clock(Duration::from_secs(6));
    let ok = api.post("/resend", resend.clone()).await;
    assert_eq!((ok.status, &ok.body), (200, &json!({})));
    let sms = api.emu.inbox_for("+15555550108");
    assert_eq!(sms.len(), 2);
    // Only the newest code works.
    let old = verify(&api, "+15555550108", &sms[0].otp, "sms").await;
    if sms[0].otp != sms[1].otp {
        assert_eq!(error_of(&old).1, "otp_expired");
    }
    let new = verify(&api, "+15555550108", &sms[1].otp, "sms").await;
    assert_eq!(new.status, 200, "{:?}", new.body);
    api.emu.advance_clock(Duration::from_secs(6));
    let confirmed = api.post("/resend", resend).await;
    assert_eq!((confirmed.status, &confirmed.body), (200, &json!({})));
    assert_eq!(api.emu.inbox_for("+15555550108").len(), 2);

    let missing = api.post("/resend", json!({ "type": "sms" })).await;
    assert_eq!(
        error_of(&missing),
        (
            400,
            "validation_failed",
            "Type provided requires a phone number"
        )
    );
}

#[tokio::test]
async fn sms_codes_expire_after_sms_otp_exp() {
    let api = Api::with(
        support::config()
            .phone_autoconfirm(false)
            .sms_otp_exp(Duration::from_secs(60)),
    )
    .await;
    api.post(
        "/signup",
        json!({ "phone": "+15555550109", "password": "secret123" }),
    )
    .await;
    let code = api.emu.inbox_for("+15555550109")[0].otp.clone();
    api.emu.advance_clock(Duration::from_secs(61));
    let late = verify(&api, "+15555550109", &code, "sms").await;
    assert_eq!(
        error_of(&late),
        (403, "otp_expired", "Token has expired or is invalid")
    );
}

#[tokio::test]
async fn phone_change_with_a_code() {
    let api = Api::with(support::config().phone_autoconfirm(false)).await;
    let session = api.signup("pc@example.com", "secret123").await;
    let token = session["access_token"].as_str().unwrap();
    let res = api
        .put_as("/user", token, json!({ "phone": "+15555550110" }))
        .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    assert_eq!(res.body["phone"], "");
    assert_eq!(res.body["new_phone"], "15555550110");
    assert!(res.body["phone_change_sent_at"].is_string());
    let sms = latest_sms(&api, "+15555550110").await;
    assert_eq!(sms["kind"], "phone_change");
    let code = sms["otp"].as_str().unwrap();

    let ok = verify(&api, "+15555550110", code, "phone_change").await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    let user = &ok.body["user"];
    assert_eq!(user["phone"], "15555550110");
    assert!(user.get("new_phone").is_none());
    assert!(user["phone_confirmed_at"].is_string());
    let phone_identity = user["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["provider"] == "phone")
        .unwrap();
    assert_eq!(
        phone_identity["identity_data"],
        json!({
            "email_verified": false,
            "phone": "15555550110",
            "phone_verified": true,
            "sub": user["id"],
        })
    );
    assert_eq!(user["app_metadata"]["providers"], json!(["email", "phone"]));

    // The number is now taken.
    let other = api.signup("other@example.com", "secret123").await;
    let taken = api
        .put_as(
            "/user",
            other["access_token"].as_str().unwrap(),
            json!({ "phone": "15555550110" }),
        )
        .await;
    assert_eq!(
        error_of(&taken),
        (
            422,
            "phone_exists",
            "Phone number already registered by another user"
        )
    );
}

#[tokio::test]
async fn phone_change_under_autoconfirm_is_immediate() {
    let api = Api::start().await;
    let session = api.signup("pa@example.com", "secret123").await;
    let token = session["access_token"].as_str().unwrap();
    let res = api
        .put_as("/user", token, json!({ "phone": "+15555550111" }))
        .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    assert_eq!(res.body["phone"], "15555550111");
    assert!(res.body["phone_confirmed_at"].is_string());
    assert!(api.emu.inbox_for("+15555550111").is_empty());
    let login = password_login(&api, "+15555550111", "secret123").await;
    assert_eq!(login.status, 200, "{:?}", login.body);
}

#[tokio::test]
async fn the_inbox_lists_sms_next_to_emails() {
    let api = Api::with(support::config().autoconfirm(false)).await;
    api.signup("mail@example.com", "secret123").await;
    api.post("/otp", json!({ "phone": "+15555550112" })).await;
    let url = format!("{}/inbox/api/messages", api.emu.url());
    let all = api.call(api.http.get(&url)).await;
    let messages = all.body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["channel"], "email");
    assert_eq!(messages[0]["body"], "");
    assert_eq!(messages[0]["kind"], "signup");
    assert_eq!(messages[1]["channel"], "sms");
    assert_eq!(messages[1]["to"], "+15555550112");
    let keys: Vec<&str> = messages[1]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "to",
            "subject",
            "kind",
            "otp",
            "token_hash",
            "link",
            "redirect_to",
            "html",
            "sent_at",
            "channel",
            "body"
        ]
    );
    let sms_only = api
        .call(api.http.get(&url).query(&[("channel", "sms")]))
        .await;
    assert_eq!(sms_only.body["messages"].as_array().unwrap().len(), 1);
    // `+` unescaped in a query is a space; the number still matches.
    let raw = api
        .call(api.http.get(format!("{url}/latest?to=+15555550112")))
        .await;
    assert_eq!(raw.body["to"], "+15555550112");
    let page = api
        .call(api.http.get(format!("{}/inbox", api.emu.url())))
        .await;
    let html = page.body.as_str().unwrap();
    assert!(html.contains(&format!(
        "Your code is {}",
        raw.body["otp"].as_str().unwrap()
    )));
}

#[tokio::test]
async fn a_phone_only_user_reauthenticates_with_a_texted_nonce() {
    let api = Api::with(
        support::config()
            .secure_password_change(true)
            .jwt_exp(Duration::from_secs(200_000)),
    )
    .await;
    let session = api
        .post(
            "/signup",
            json!({ "phone": "+15555550113", "password": "secret123" }),
        )
        .await;
    let token = session.body["access_token"].as_str().unwrap().to_string();
    api.emu.advance_clock(Duration::from_secs(25 * 3600));
    let sent = api.get_as("/reauthenticate", &token).await;
    assert_eq!((sent.status, &sent.body), (200, &json!({})));
    let sms = latest_sms(&api, "+15555550113").await;
    assert_eq!(sms["kind"], "reauthentication");
    let nonce = sms["otp"].as_str().unwrap();
    let wrong = if nonce == "000000" {
        "111111"
    } else {
        "000000"
    };
    let refused = api
        .put_as(
            "/user",
            &token,
            json!({ "password": "newpass123", "nonce": wrong }),
        )
        .await;
    assert_eq!(
        error_of(&refused),
        (
            422,
            "reauthentication_not_valid",
            "Nonce has expired or is invalid"
        )
    );
    api.emu.advance_clock(Duration::from_secs(6));
    api.get_as("/reauthenticate", &token).await;
    let nonce = latest_sms(&api, "+15555550113").await["otp"]
        .as_str()
        .unwrap()
        .to_string();
    let ok = api
        .put_as(
            "/user",
            &token,
            json!({ "password": "newpass123", "nonce": nonce }),
        )
        .await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    let login = password_login(&api, "+15555550113", "newpass123").await;
    assert_eq!(login.status, 200, "{:?}", login.body);
}
