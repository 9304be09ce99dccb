//! `VerifiedAal2`: an `aal2` route against the local Auth emulator: signed out, `aal1`
//! without and with a verified factor, `aal2`, a forged `aal2` claim, and Auth down.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use supabase_ssr::SupabaseAuth;
use supabase_ssr::adapter::codec::{decode_value, to_base64_value};
use supabase_ssr::cookies::{Cookie, CookieJar};
use supabase_ssr::mfa::EnrollTotp;
use supabase_ssr_axum::{SupabaseLayer, VerifiedAal2};
use support::*;

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

fn security_app(layer: SupabaseLayer) -> Router {
    Router::new()
        .route(
            "/security",
            get(|VerifiedAal2(claims): VerifiedAal2| async move {
                format!(
                    "{} at {}",
                    claims.email.as_deref().unwrap_or_default(),
                    claims.aal.as_deref().unwrap_or_default()
                )
            }),
        )
        .layer(layer)
}

fn layer(auth: &SupabaseAuth) -> SupabaseLayer {
    SupabaseLayer::new(auth.clone())
        .login_path("/sign-in")
        .mfa_challenge_path("/mfa/challenge")
        .mfa_enroll_path("/account/mfa")
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

#[tokio::test]
async fn each_level_gets_its_answer() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let app = security_app(layer(&auth));

    // Signed out: the login page, as Verified.
    let res = send(&app, get_with("/security?tab=1", &[])).await;
    assert_eq!(res.status, 303);
    assert_eq!(
        res.header("location"),
        ["/sign-in?next=%2Fsecurity%3Ftab%3D1"]
    );

    // aal1 without a factor: the enroll page.
    let aal1 = signed_in_cookies(&auth).await;
    let res = send(&app, get_with("/security", &[&header_of(&aal1)])).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.header("location"), ["/account/mfa?next=%2Fsecurity"]);

    // aal2: the page.
    let (aal2, _) = enrolled(&auth).await;
    let res = send(&app, get_with("/security", &[&header_of(&aal2)])).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body, format!("{EMAIL} at aal2"));

    // aal1 with a verified factor (a new sign-in): the challenge page.
    let aal1 = signed_in_cookies(&auth).await;
    let res = send(&app, get_with("/security", &[&header_of(&aal1)])).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.header("location"), ["/mfa/challenge?next=%2Fsecurity"]);

    // Without the pages: 403 for both aal1 cases, 401 signed out.
    let bare = security_app(SupabaseLayer::new(auth.clone()));
    let res = send(&bare, get_with("/security", &[&header_of(&aal1)])).await;
    assert_eq!(
        (res.status, res.body.as_str()),
        (StatusCode::FORBIDDEN, "a second factor is required")
    );
    let res = send(&bare, get_with("/security", &[])).await;
    assert_eq!(res.status, 401);
}

#[tokio::test]
async fn a_user_without_a_factor_gets_403_without_an_enroll_page() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let app = security_app(SupabaseLayer::new(auth.clone()));
    let aal1 = signed_in_cookies(&auth).await;
    let res = send(&app, get_with("/security", &[&header_of(&aal1)])).await;
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
    let stored = decode_value(value_of(cookies, SESSION)).unwrap();
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

#[tokio::test]
async fn a_forged_aal2_claim_never_passes() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let app = security_app(layer(&auth));
    let (_, _) = enrolled(&auth).await;
    let aal1 = signed_in_cookies(&auth).await;
    // The genuine cookies verify (at aal1) on this process first, so the verified-token
    // cache and the session cache hold them.
    let res = send(&app, get_with("/security", &[&header_of(&aal1)])).await;
    assert_eq!(res.header("location"), ["/mfa/challenge?next=%2Fsecurity"]);

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

    let res = send(&app, get_with("/security", &[&forged])).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(
        res.header("location"),
        ["/sign-in?next=%2Fsecurity"],
        "a token that fails its signature is nobody"
    );
}

#[tokio::test]
async fn auth_down_while_listing_factors_is_503() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let app = security_app(layer(&auth));
    let aal1 = signed_in_cookies(&auth).await;
    // The token verifies locally (JWKS fetched once); GET /user then fails.
    let res = send(&app, get_with("/security", &[&header_of(&aal1)])).await;
    assert_eq!(res.status, 303);
    emu.faults().only_paths(&["/user"]);
    emu.faults().fail_all(503).unwrap();
    let res = send(&app, get_with("/security", &[&header_of(&aal1)])).await;
    assert_eq!(
        (res.status, res.body.as_str()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the second factor could not be checked; try again"
        )
    );
}
