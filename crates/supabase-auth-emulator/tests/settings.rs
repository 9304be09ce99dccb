//! Settings from a Supabase CLI `config.toml`, over real HTTP: the routes answer as
//! GoTrue does when `supabase start` runs with the same file.
#![allow(clippy::unwrap_used)]

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use supabase_auth_emulator::EmulatorConfig;
use support::{Api, Res, jwt_part};

const TEMPLATE: &str = include_str!("fixtures/supabase_config.toml");

async fn from_file(text: &str) -> Api {
    let cfg = EmulatorConfig::from_supabase_config(text).unwrap();
    Api::with(cfg).await
}

fn error_of(res: &Res) -> (u16, &str, &str) {
    (
        res.status,
        res.body["error_code"].as_str().unwrap_or(""),
        res.body["msg"].as_str().unwrap_or(""),
    )
}

async fn authorize(api: &Api, provider: &str) -> Res {
    api.call(api.http.get(format!(
        "{}?provider={provider}&skip_http_redirect=true",
        api.url("/authorize")
    )))
    .await
}

#[tokio::test]
async fn the_cli_template_behaves_as_supabase_start() {
    let api = from_file(TEMPLATE).await;

    let anonymous = api.post("/signup", json!({ "data": {} })).await;
    assert_eq!(
        error_of(&anonymous),
        (
            422,
            "anonymous_provider_disabled",
            "Anonymous sign-ins are disabled"
        )
    );

    let github = authorize(&api, "github").await;
    assert_eq!(
        error_of(&github),
        (
            400,
            "validation_failed",
            "Unsupported provider: provider is not enabled"
        )
    );

    let settings = api.get("/settings").await;
    assert_eq!(settings.status, 200);
    let external = &settings.body["external"];
    assert_eq!(external["anonymous_users"], false);
    assert_eq!(external["github"], false);
    assert_eq!(external["apple"], false);
    assert_eq!(external["email"], true);
    assert_eq!(external["phone"], false);
    assert_eq!(settings.body["disable_signup"], false);
    assert_eq!(settings.body["mailer_autoconfirm"], true);
    assert_eq!(settings.body["phone_autoconfirm"], true);

    // Email sign-ups are on and confirmed at once; tokens last jwt_expiry = 3600 s.
    let session = api.signup("ann@example.com", "secret123").await;
    assert_eq!(session["expires_in"], 3600);

    // [auth.mfa.totp] enroll_enabled = false.
    let token = session["access_token"].as_str().unwrap();
    let enroll = api
        .post_as("/factors", token, json!({ "factor_type": "totp" }))
        .await;
    assert_eq!(
        error_of(&enroll),
        (
            422,
            "mfa_totp_enroll_not_enabled",
            "MFA enroll is disabled for TOTP"
        )
    );
}

#[tokio::test]
async fn signups_off() {
    let api = from_file("[auth]\nenable_signup = false\nenable_anonymous_sign_ins = true\n").await;
    let email = api
        .post(
            "/signup",
            json!({ "email": "ann@example.com", "password": "secret123" }),
        )
        .await;
    assert_eq!(
        error_of(&email),
        (
            422,
            "signup_disabled",
            "Signups not allowed for this instance"
        )
    );
    let anonymous = api.post("/signup", json!({})).await;
    assert_eq!(
        error_of(&anonymous),
        (
            422,
            "signup_disabled",
            "Signups not allowed for this instance"
        )
    );
    // Existing users still sign in.
    api.emu
        .create_user("bob@example.com", "secret123")
        .await
        .unwrap();
    assert_eq!(api.login("bob@example.com", "secret123").await.status, 200);
    assert_eq!(api.get("/settings").await.body["disable_signup"], true);
}

#[tokio::test]
async fn anonymous_sign_ins_on() {
    let api = from_file("[auth]\nenable_anonymous_sign_ins = true\n").await;
    let res = api.post("/signup", json!({})).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["user"]["is_anonymous"], true);
}

#[tokio::test]
async fn email_provider_off() {
    let api = from_file("[auth.email]\nenable_signup = false\n").await;
    api.emu
        .create_user("bob@example.com", "secret123")
        .await
        .unwrap();
    let signup = api
        .post(
            "/signup",
            json!({ "email": "ann@example.com", "password": "secret123" }),
        )
        .await;
    assert_eq!(
        error_of(&signup),
        (400, "email_provider_disabled", "Email signups are disabled")
    );
    let login = api.login("bob@example.com", "secret123").await;
    assert_eq!(
        error_of(&login),
        (422, "email_provider_disabled", "Email logins are disabled")
    );
    let otp = api
        .post("/otp", json!({ "email": "bob@example.com" }))
        .await;
    assert_eq!(
        error_of(&otp),
        (422, "email_provider_disabled", "Email logins are disabled")
    );
    let recover = api
        .post("/recover", json!({ "email": "bob@example.com" }))
        .await;
    assert_eq!(
        error_of(&recover),
        (400, "email_provider_disabled", "Email logins are disabled")
    );
    let resend = api
        .post(
            "/resend",
            json!({ "type": "signup", "email": "bob@example.com" }),
        )
        .await;
    assert_eq!(
        error_of(&resend),
        (400, "email_provider_disabled", "Email logins are disabled")
    );
    assert_eq!(api.get("/settings").await.body["external"]["email"], false);
    assert!(api.emu.inbox().is_empty());
}

#[tokio::test]
async fn providers_from_the_file() {
    let api = from_file(
        "[auth.external.github]\nenabled = true\nclient_id = \"env(GITHUB_CLIENT_ID)\"\n\
         secret = \"env(GITHUB_SECRET)\"\n[auth.external.google]\nenabled = false\n",
    )
    .await;
    let github = authorize(&api, "github").await;
    assert_eq!(github.status, 200);
    let url = github.body["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/oauth-provider/authorize?", api.emu.url())),
        "{url}"
    );
    let google = authorize(&api, "google").await;
    assert_eq!(
        error_of(&google),
        (
            400,
            "validation_failed",
            "Unsupported provider: provider is not enabled"
        )
    );
    let settings = api.get("/settings").await;
    assert_eq!(settings.body["external"]["github"], true);
    assert_eq!(settings.body["external"]["google"], false);
}

#[tokio::test]
async fn otp_length_and_jwt_expiry() {
    let api = from_file(
        "[auth]\njwt_expiry = 120\n[auth.email]\notp_length = 8\notp_expiry = 600\n\
         enable_confirmations = true\n",
    )
    .await;
    let user = api.signup("ann@example.com", "secret123").await;
    // enable_confirmations = true: no session, a confirmation email instead.
    assert!(user.get("access_token").is_none());
    let mail = api.emu.inbox();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].kind, "signup");
    assert_eq!(mail[0].otp.len(), 8);
    assert!(mail[0].otp.bytes().all(|b| b.is_ascii_digit()));

    let verified = api
        .post(
            "/verify",
            json!({ "type": "email", "email": "ann@example.com", "token": mail[0].otp }),
        )
        .await;
    assert_eq!(verified.status, 200, "{:?}", verified.body);
    assert_eq!(verified.body["expires_in"], 120);
    let claims = jwt_part(verified.body["access_token"].as_str().unwrap(), 1);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        120
    );
}

#[tokio::test]
async fn totp_verification_off() {
    // The CLI insists on verify_enabled with enroll_enabled; GoTrue itself (and the
    // library) allow enrolment alone.
    let api = Api::with(support::config().mfa_totp_verify(false)).await;
    let session = api.signup("ann@example.com", "secret123").await;
    let token = session["access_token"].as_str().unwrap();
    let factor = api
        .post_as("/factors", token, json!({ "factor_type": "totp" }))
        .await;
    assert_eq!(factor.status, 200);
    let id = factor.body["id"].as_str().unwrap();
    let challenge = api
        .post_as(&format!("/factors/{id}/challenge"), token, json!({}))
        .await;
    assert_eq!(
        error_of(&challenge),
        (
            422,
            "mfa_totp_verify_not_enabled",
            "MFA verification is disabled for TOTP"
        )
    );
    let verify = api
        .post_as(
            &format!("/factors/{id}/verify"),
            token,
            json!({ "challenge_id": uuid::Uuid::new_v4().to_string(), "code": "123456" }),
        )
        .await;
    assert_eq!(verify.status, 422);
    assert_eq!(verify.body["error_code"], "mfa_totp_verify_not_enabled");
}

#[tokio::test]
async fn totp_on_from_the_file() {
    let api = from_file("[auth.mfa.totp]\nenroll_enabled = true\nverify_enabled = true\n").await;
    let session = api.signup("ann@example.com", "secret123").await;
    let token = session["access_token"].as_str().unwrap();
    let factor = api
        .post_as("/factors", token, json!({ "factor_type": "totp" }))
        .await;
    assert_eq!(factor.status, 200);
    let id = factor.body["id"].as_str().unwrap();
    let challenge = api
        .call(
            api.req_as(Method::POST, &format!("/factors/{id}/challenge"), token)
                .json(&json!({})),
        )
        .await;
    assert_eq!(challenge.status, 200);
    assert_eq!(challenge.body["type"], Value::from("totp"));
}
