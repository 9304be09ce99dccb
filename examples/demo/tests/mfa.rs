//! Two-factor authentication over plain HTTP: `/security` needs `aal2` and sends the
//! others to sign in, to set up an app or to enter a code, each with `next`; bad codes
//! and forms get a page with the reason; a whole enrollment, step-up and removal.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use demo::{DEMO_EMAIL, DEMO_PASSWORD, Database, DemoConfig};
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, LOCATION};

async fn start() -> (demo::App, reqwest::Client) {
    let app = demo::run(
        DemoConfig::emulator()
            .port(0)
            .database(Database::Off)
            .jwt_exp(Duration::from_secs(60)),
    )
    .await
    .unwrap();
    (app, browser())
}

/// A client that keeps cookies and shows redirects instead of following them.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

fn location(res: &reqwest::Response) -> &str {
    res.headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

async fn sign_in(
    app: &demo::App,
    client: &reqwest::Client,
    email: &str,
    password: &str,
    next: &str,
) -> reqwest::Response {
    client
        .post(format!("{}/sign-in", app.url()))
        .form(&[("email", email), ("password", password), ("next", next)])
        .send()
        .await
        .unwrap()
}

async fn get(app: &demo::App, client: &reqwest::Client, path: &str) -> reqwest::Response {
    client
        .get(format!("{}{path}", app.url()))
        .send()
        .await
        .unwrap()
}

async fn post(
    app: &demo::App,
    client: &reqwest::Client,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client
        .post(format!("{}{path}", app.url()))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// The text of the element whose opening tag ends with `id="<id>">`.
fn element_text<'a>(html: &'a str, id: &str) -> &'a str {
    let marker = format!("id=\"{id}\">");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no #{id}")) + marker.len();
    let end = html[start..].find('<').unwrap() + start;
    &html[start..end]
}

/// The `value` of the hidden input named `name`.
fn hidden_value<'a>(html: &'a str, name: &str) -> &'a str {
    let marker = format!("type=\"hidden\" name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name}")) + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    &html[start..end]
}

/// The RFC 6238 code of a base32 `secret` (SHA-1, 6 digits, 30 s) at `unix_secs`.
fn totp_code(secret: &str, unix_secs: u64) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret).unwrap();
    totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(secret)
        .build()
        .unwrap()
        .generate(unix_secs)
        .to_string()
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A code that is none of the codes the server accepts now (this step and the ones
/// either side).
fn wrong_code(secret: &str) -> String {
    let now = now_secs();
    let accepted: Vec<String> = [now - 30, now, now + 30]
        .iter()
        .map(|t| totp_code(secret, *t))
        .collect();
    (0..)
        .map(|n: u32| format!("{:06}", (n * 7919) % 1_000_000))
        .find(|c| !accepted.contains(c))
        .unwrap()
}

#[tokio::test]
async fn security_sends_each_kind_of_user_where_they_can_pass() {
    let (app, client) = start().await;

    let res = get(&app, &client, "/security").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/sign-in?next=%2Fsecurity");

    // Signed in with a password: aal1, and no authenticator app yet.
    let res = sign_in(&app, &client, DEMO_EMAIL, DEMO_PASSWORD, "/security").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/security");
    let res = get(&app, &client, "/security").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/account/mfa?next=%2Fsecurity");

    // The challenge page has nothing to ask for: set-up first, `next` kept.
    let res = get(&app, &client, "/mfa/challenge?next=%2Fnotes").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/account/mfa?next=%2Fnotes");
    let res = get(&app, &client, "/mfa/challenge?next=https://evil.example").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/account/mfa?next=%2Fsecurity");
    let res = post(&app, &client, "/mfa/challenge", &[("code", "123456")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/account/mfa?next=%2Fsecurity");

    let res = get(&app, &client, "/account/mfa?next=%2Fsecurity").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.text().await.unwrap();
    assert!(body.contains("None yet"), "{body}");
    assert!(
        body.contains("That page needs a second factor: set up an authenticator app first."),
        "{body}"
    );
    assert_eq!(element_text(&body, "mfa-aal"), "aal1");
    assert_eq!(hidden_value(&body, "next"), "/security");
    app.shutdown().await;
}

#[tokio::test]
async fn bad_mfa_forms_show_the_reason_without_a_500() {
    let (app, client) = start().await;
    for path in [
        "/account/mfa",
        "/mfa/challenge",
        "/account/mfa/enroll",
        "/account/mfa/verify",
        "/account/mfa/unenroll",
    ] {
        let res = client
            .post(format!("{}{path}", app.url()))
            .body(vec![0xff, 0x00])
            .send()
            .await
            .unwrap();
        // Signed out: the sign-in page, whatever the body (a GET-only path: 405).
        match path {
            "/account/mfa" => assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}"),
            _ => {
                assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
                assert!(location(&res).starts_with("/sign-in?next="), "{path}");
            }
        }
    }

    sign_in(&app, &client, DEMO_EMAIL, DEMO_PASSWORD, "/").await;
    let id = "0b6d3c1e-8f3a-4c39-9a57-1f6f0f6c2d11";
    type Form<'a> = &'a [(&'a str, &'a str)];
    let cases: [(&str, Form<'_>, StatusCode, &str); 4] = [
        (
            "/account/mfa/verify",
            &[("code", "123456")],
            StatusCode::BAD_REQUEST,
            "does not say which authenticator app to verify",
        ),
        (
            "/account/mfa/verify",
            &[("factor_id", "../user"), ("code", "123456")],
            StatusCode::BAD_REQUEST,
            "does not say which authenticator app to verify",
        ),
        (
            "/account/mfa/verify",
            &[("factor_id", id), ("code", "12 34")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "Enter the 6-digit code your authenticator app shows.",
        ),
        (
            "/account/mfa/unenroll",
            &[("factor_id", "")],
            StatusCode::BAD_REQUEST,
            "does not say which authenticator app to remove",
        ),
    ];
    for (path, form, status, text) in cases {
        let res = post(&app, &client, path, form).await;
        let got = res.status();
        let body = res.text().await.unwrap();
        assert_eq!(got, status, "{path} {form:?}: {body}");
        assert!(body.contains(text), "expected {text:?} in {body}");
    }
    // Garbage bytes are a form without fields.
    let res = client
        .post(format!("{}/account/mfa/verify", app.url()))
        .body(vec![0xff, 0xfe, b'=', 0x00])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    app.shutdown().await;
}

#[tokio::test]
async fn enroll_step_up_and_remove_an_authenticator_app() {
    let (app, client) = start().await;
    let email = "mfa-http@example.com";
    let password = "correct-horse-7";
    app.emulator()
        .unwrap()
        .create_user(email, password)
        .await
        .unwrap();
    sign_in(&app, &client, email, password, "/security").await;

    // A set-up left half done is replaced, not refused for its taken name.
    let res = post(&app, &client, "/account/mfa/enroll", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let abandoned = hidden_value(&res.text().await.unwrap(), "factor_id").to_owned();

    // Set up: the QR code and the secret, on a page no cache keeps.
    let res = post(
        &app,
        &client,
        "/account/mfa/enroll",
        &[("next", "/security")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[CACHE_CONTROL], "no-store");
    let body = res.text().await.unwrap();
    let secret = element_text(&body, "mfa-secret").to_owned();
    assert_eq!(secret.len(), 32, "{secret}");
    assert!(
        body.contains("id=\"mfa-qr\" src=\"data:image/svg+xml;utf-8,&lt;?xml"),
        "{body}"
    );
    let factor_id = hidden_value(&body, "factor_id").to_owned();
    assert_eq!(hidden_value(&body, "next"), "/security");
    assert_ne!(factor_id, abandoned);
    let body = get(&app, &client, "/account/mfa")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(body.matches("<li class=\"factor\"").count(), 1, "{body}");
    assert!(body.contains("not verified yet"), "{body}");

    // A wrong first code: the form again, without the secret.
    let wrong = wrong_code(&secret);
    let form = [
        ("factor_id", factor_id.as_str()),
        ("code", wrong.as_str()),
        ("next", "/security"),
    ];
    let res = post(&app, &client, "/account/mfa/verify", &form).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    assert!(body.contains("Invalid TOTP code entered"), "{body}");
    assert!(!body.contains(&secret));
    assert_eq!(hidden_value(&body, "factor_id"), factor_id);

    // The right one: aal2, and on to `next`.
    let code = totp_code(&secret, now_secs());
    let form = [
        ("factor_id", factor_id.as_str()),
        ("code", code.as_str()),
        ("next", "/security"),
    ];
    let res = post(&app, &client, "/account/mfa/verify", &form).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/security");
    let res = get(&app, &client, "/security").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.text().await.unwrap();
    assert_eq!(element_text(&body, "security-aal"), "aal2");
    // Newest first; both in the same second here, so in either order.
    let mut amr: Vec<&str> = element_text(&body, "security-amr").split(", ").collect();
    amr.sort_unstable();
    assert_eq!(amr, ["password", "totp"]);

    // A new sign-in is aal1 again: the code prompt, then /security.
    let client = browser();
    let res = sign_in(&app, &client, email, password, "/security").await;
    assert_eq!(location(&res), "/security");
    let res = get(&app, &client, "/security").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/mfa/challenge?next=%2Fsecurity");
    let res = get(&app, &client, "/mfa/challenge?next=%2Fsecurity").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.text().await.unwrap();
    assert_eq!(hidden_value(&body, "factor_id"), factor_id);

    // At aal1 the verified app cannot be removed: the page says why.
    let res = post(
        &app,
        &client,
        "/account/mfa/unenroll",
        &[("factor_id", &factor_id)],
    )
    .await;
    let status = res.status();
    let body = res.text().await.unwrap();
    // As GoTrue answers: 422 insufficient_aal.
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.contains("AAL2 required to unenroll verified factor"),
        "{body}"
    );
    // Nor can another app be added; the page offers the code prompt instead.
    let res = post(&app, &client, "/account/mfa/enroll", &[]).await;
    let status = res.status();
    let body = res.text().await.unwrap();
    // As GoTrue answers: 403 insufficient_aal.
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body.contains("AAL2 required to enroll a new factor"),
        "{body}"
    );
    assert!(
        body.contains("<a href=\"/mfa/challenge?next=%2Faccount%2Fmfa\">enter a code from your current one</a>"),
        "{body}"
    );
    assert!(
        !body.contains("Set up an authenticator app</button>"),
        "{body}"
    );

    let wrong = wrong_code(&secret);
    let form = [("code", wrong.as_str()), ("next", "/security")];
    let res = post(&app, &client, "/mfa/challenge", &form).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Invalid TOTP code entered")
    );
    let code = totp_code(&secret, now_secs());
    let form = [("code", code.as_str()), ("next", "/security")];
    let res = post(&app, &client, "/mfa/challenge", &form).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/security");
    let res = get(&app, &client, "/security").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.text().await.unwrap();
    assert_eq!(element_text(&body, "security-aal"), "aal2");
    // At aal2 the code prompt has nothing to ask.
    let res = get(&app, &client, "/mfa/challenge?next=%2Fdashboard").await;
    assert_eq!(location(&res), "/dashboard");

    // At aal2 it can.
    let res = post(
        &app,
        &client,
        "/account/mfa/unenroll",
        &[("factor_id", &factor_id)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/account/mfa?removed=1");
    let body = get(&app, &client, "/account/mfa?removed=1")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        body.contains("The authenticator app was removed."),
        "{body}"
    );
    assert!(body.contains("None yet"), "{body}");
    app.shutdown().await;
}
