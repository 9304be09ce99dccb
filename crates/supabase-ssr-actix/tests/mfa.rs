//! `VerifiedAal2`: an `aal2` route against the local Auth emulator: signed out, `aal1`
//! without and with a verified factor, `aal2`, a forged `aal2` claim, and Auth down.
//! The same cases and answers as the axum crate's `tests/mfa.rs`.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::http::StatusCode;
use actix_web::http::header::{COOKIE, LOCATION};
use actix_web::test as actix_test;
use actix_web::{App, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use supabase_auth_emulator::{Emulator, EmulatorConfig};
use supabase_ssr::SupabaseAuth;
use supabase_ssr::adapter::codec::{cookie_header_value, decode_value, to_base64_value};
use supabase_ssr::cookies::{Cookie, CookieJar};
use supabase_ssr::mfa::EnrollTotp;
use supabase_ssr_actix::{SupabaseMiddleware, VerifiedAal2};
use supabase_ssr_conformance::{EMAIL, PASSWORD};

/// The session cookie's name for a project on 127.0.0.1.
const SESSION: &str = "sb-127-auth-token";

/// An emulator on 127.0.0.1:0 with a confirmed user.
async fn emulator() -> Emulator {
    let emu = EmulatorConfig::default().start().await.unwrap();
    emu.create_user(EMAIL, PASSWORD).await.unwrap();
    emu.clear_requests();
    emu
}

fn auth(emu: &Emulator) -> SupabaseAuth {
    SupabaseAuth::builder(emu.url(), emu.publishable_key())
        .retry_budget(Duration::from_millis(800))
        .build()
        .unwrap()
}

fn code(secret: &str) -> String {
    let totp = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    totp.generate(now).to_string()
}

async fn security(VerifiedAal2(claims): VerifiedAal2) -> String {
    format!(
        "{} at {}",
        claims.email.as_deref().unwrap_or_default(),
        claims.aal.as_deref().unwrap_or_default()
    )
}

fn middleware(auth: &SupabaseAuth) -> SupabaseMiddleware {
    SupabaseMiddleware::new(auth.clone())
        .login_path("/sign-in")
        .mfa_challenge_path("/mfa/challenge")
        .mfa_enroll_path("/account/mfa")
}

/// A response, read whole.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    location: Vec<String>,
    body: String,
}

/// `GET uri` with at most one `Cookie` field, through `/security` behind `middleware`.
async fn send(middleware: SupabaseMiddleware, uri: &str, cookie: Option<&str>) -> Answer {
    let app = actix_test::init_service(
        App::new()
            .route("/security", web::get().to(security))
            .wrap(middleware),
    )
    .await;
    let mut req = actix_test::TestRequest::get().uri(uri);
    if let Some(cookie) = cookie {
        req = req.insert_header((COOKIE, cookie));
    }
    let res = actix_test::call_service(&app, req.to_request()).await;
    let status = res.status();
    let location = res
        .headers()
        .get_all(LOCATION)
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let body = actix_test::read_body(res).await;
    Answer {
        status,
        location,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

/// Signs in through a fresh client and returns the browser's cookies afterwards.
async fn signed_in_cookies(auth: &SupabaseAuth) -> Vec<Cookie> {
    let jar = Arc::new(CookieJar::default());
    auth.server_client(jar.clone())
        .sign_in_with_password(EMAIL, PASSWORD)
        .await
        .unwrap();
    jar.cookies()
}

/// Signs in, enrolls and verifies a factor; returns the `aal2` cookies and the secret.
async fn enrolled(auth: &SupabaseAuth) -> (Vec<Cookie>, String) {
    let jar = Arc::new(CookieJar::default());
    let client = auth.server_client(jar.clone());
    client.sign_in_with_password(EMAIL, PASSWORD).await.unwrap();
    let factor = client
        .mfa()
        .enroll_totp(EnrollTotp::default().friendly_name("phone"))
        .await
        .unwrap();
    client
        .mfa()
        .challenge_and_verify(factor.id(), &code(factor.secret()))
        .await
        .unwrap();
    (jar.cookies(), factor.secret().to_owned())
}

#[actix_web::test]
async fn each_level_gets_its_answer() {
    let emu = emulator().await;
    let auth = auth(&emu);

    // Signed out: the login page, as Verified.
    let res = send(middleware(&auth), "/security?tab=1", None).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location, ["/sign-in?next=%2Fsecurity%3Ftab%3D1"]);

    // aal1 without a factor: the enroll page.
    let aal1 = cookie_header_value(&signed_in_cookies(&auth).await);
    let res = send(middleware(&auth), "/security", Some(&aal1)).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location, ["/account/mfa?next=%2Fsecurity"]);

    // aal2: the page.
    let (aal2, _) = enrolled(&auth).await;
    let aal2 = cookie_header_value(&aal2);
    let requests = emu.requests().len();
    let res = send(middleware(&auth), "/security", Some(&aal2)).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body, format!("{EMAIL} at aal2"));
    assert_eq!(
        emu.requests().len(),
        requests,
        "an aal2 token needs no request"
    );

    // aal1 with a verified factor (a new sign-in): the challenge page.
    let aal1 = cookie_header_value(&signed_in_cookies(&auth).await);
    let requests = emu.requests().len();
    let res = send(middleware(&auth), "/security", Some(&aal1)).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location, ["/mfa/challenge?next=%2Fsecurity"]);
    let made: Vec<(String, String)> = emu.requests()[requests..]
        .iter()
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    assert_eq!(made, [("GET".to_owned(), "/auth/v1/user".to_owned())]);

    // Without the pages: 403 for both aal1 cases, 401 signed out.
    let bare = || SupabaseMiddleware::new(auth.clone());
    let res = send(bare(), "/security", Some(&aal1)).await;
    assert_eq!(
        (res.status, res.body.as_str()),
        (StatusCode::FORBIDDEN, "a second factor is required")
    );
    let res = send(bare(), "/security", None).await;
    assert_eq!(res.status, 401);
}

#[actix_web::test]
async fn a_user_without_a_factor_gets_403_without_an_enroll_page() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let aal1 = cookie_header_value(&signed_in_cookies(&auth).await);
    let res = send(
        SupabaseMiddleware::new(auth.clone()),
        "/security",
        Some(&aal1),
    )
    .await;
    assert_eq!(
        (res.status, res.body.as_str()),
        (
            StatusCode::FORBIDDEN,
            "a second factor must be enrolled first"
        )
    );
}

/// The `aal1` session cookie with its access token's payload edited to say `aal2`,
/// the signature left as it was.
fn forged_aal2(cookies: &[Cookie]) -> String {
    let value = &cookies.iter().find(|c| c.name == SESSION).unwrap().value;
    let stored = decode_value(value).unwrap();
    let mut session: serde_json::Value = serde_json::from_str(&stored).unwrap();
    let token = session["access_token"].as_str().unwrap().to_owned();
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut payload: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    assert_eq!(payload["aal"], "aal1");
    payload["aal"] = "aal2".into();
    payload["amr"] = serde_json::json!([{"method": "totp", "timestamp": payload["iat"]}]);
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap());
    session["access_token"] = parts.join(".").into();
    format!("{SESSION}={}", to_base64_value(&session.to_string()))
}

#[actix_web::test]
async fn a_forged_aal2_claim_never_passes() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let (_, _) = enrolled(&auth).await;
    let aal1 = signed_in_cookies(&auth).await;
    // The genuine cookies verify (at aal1) on this process first, so the verified-token
    // cache and the session cache hold them.
    let res = send(
        middleware(&auth),
        "/security",
        Some(&cookie_header_value(&aal1)),
    )
    .await;
    assert_eq!(res.location, ["/mfa/challenge?next=%2Fsecurity"]);

    // The forged cookie is a readable session whose token says aal2, and fails its
    // signature.
    let forged = forged_aal2(&aal1);
    let client = auth.server_client(CookieJar::from_cookie_header(&forged));
    let session = client.get_session().await.unwrap().unwrap();
    let payload = session.access_token().split('.').nth(1).unwrap();
    let payload: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(payload["aal"], "aal2");
    let error = client.get_claims().await.unwrap_err();
    assert_eq!(
        error.kind(),
        supabase_ssr::AuthErrorKind::InvalidToken,
        "{error}"
    );

    let res = send(middleware(&auth), "/security", Some(&forged)).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(
        res.location,
        ["/sign-in?next=%2Fsecurity"],
        "a token that fails its signature is nobody"
    );
}

#[actix_web::test]
async fn auth_down_while_listing_factors_is_503() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let aal1 = cookie_header_value(&signed_in_cookies(&auth).await);
    // The token verifies locally (JWKS fetched once); GET /user then fails.
    let res = send(middleware(&auth), "/security", Some(&aal1)).await;
    assert_eq!(res.status, 303);
    emu.faults().only_paths(&["/user"]);
    emu.faults().fail_all(503).unwrap();
    let res = send(middleware(&auth), "/security", Some(&aal1)).await;
    assert_eq!(
        (res.status, res.body.as_str()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the second factor could not be checked; try again"
        )
    );
}

#[test]
fn debug_shows_every_page() {
    let auth = SupabaseAuth::builder("http://127.0.0.1:9", "sb_publishable_secretish")
        .build()
        .unwrap();
    let debug = format!("{:?}", middleware(&auth));
    assert!(
        debug.contains(
            r#"login_path: Some("/sign-in"), mfa_challenge_path: Some("/mfa/challenge"), mfa_enroll_path: Some("/account/mfa")"#
        ),
        "{debug}"
    );
    assert!(!debug.contains("sb_publishable_secretish"), "{debug}");
}
