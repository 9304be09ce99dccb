//! The scenarios, each a whole test against an app under test over real HTTP.
//!
//! Each is generic over the [`AppUnderTest`] and asserts exact values: statuses, bodies,
//! `Set-Cookie` lines byte for byte, cache headers, and the requests the Auth emulator
//! served.
#![allow(
    clippy::unwrap_used,
    reason = "a scenario fails on what it did not expect"
)]
#![allow(missing_docs, reason = "each scenario's name says what it checks")]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use supabase_auth_emulator::EmulatorConfig;
use supabase_ssr::SignOutScope;
use supabase_ssr::adapter::codec::{decode_value, to_base64_value};
use supabase_ssr::cookies::{Cookie, CookieJar, CookieOptions, SetCookie};

use crate::client::{Answer, get_with, send};
use crate::support::*;
use crate::{AppConfig, AppUnderTest};

/// The value of the session cookie in a `Set-Cookie` line written with the default
/// options, checked against the core's serialization of that value.
fn session_value(line: &str) -> String {
    let value = line
        .strip_prefix("sb-127-auth-token=")
        .and_then(|rest| rest.strip_suffix(ATTRIBUTES))
        .unwrap_or_else(|| panic!("not a session line: {line}"));
    let set = SetCookie {
        name: SESSION.into(),
        value: value.into(),
        options: CookieOptions::default_set(),
    };
    assert_eq!(set.to_header_value(), line);
    value.to_owned()
}

fn decoded_session(value: &str) -> Value {
    serde_json::from_str(&decode_value(value).unwrap()).unwrap()
}

pub async fn a_fresh_session_is_verified_and_nothing_is_written<A: AppUnderTest>() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let cookies = signed_in_cookies(&auth).await;
    let header = format!("theme=dark; {}", header_of(&cookies));
    let app = serve::<A>(&auth);
    emu.clear_requests();

    let res = get_with(&app, "/echo", &[&header]).await;

    assert_eq!(res.status, 200);
    assert_eq!(
        res.json(),
        json!({"cookie": [header], "outcome": "verified", "client": true, "email": EMAIL})
    );
    assert_eq!(res.set_cookies(), [] as [&str; 0]);
    assert_eq!(res.cache_headers(), no_cache_headers());
    let paths: Vec<String> = emu.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/auth/v1/.well-known/jwks.json"], "only the JWKS");
}

pub async fn an_expiring_session_is_refreshed_for_the_handler_and_the_browser<A: AppUnderTest>() {
    let emu = emulator().await;
    let cookies = signed_in_cookies(&auth(&emu)).await;
    let old = value_of(&cookies, SESSION).to_owned();
    let auth = auth_ahead(&emu, 3550);
    let app = serve::<A>(&auth);
    emu.clear_requests();

    let res = get_with(&app, "/echo", &[&header_of(&cookies)]).await;

    assert_eq!(res.status, 200);
    assert_eq!(refreshes(&emu), 1);
    let (lines, downstream) = expected_writes(&auth, &cookies).await;
    assert_eq!(refreshes(&emu), 1, "the reference run shared the refresh");
    assert_eq!(res.set_cookies(), lines);
    assert_eq!(lines.len(), 1);
    let value = session_value(&lines[0]);
    assert!(value.starts_with("base64-") && value != old);
    assert_eq!(decoded_session(&value)["user"]["email"], EMAIL);
    assert_eq!(res.cache_headers(), no_store());
    // The handler saw the refreshed session, in one Cookie field.
    assert_eq!(downstream, format!("{SESSION}={value}"));
    assert_eq!(
        res.json(),
        json!({"cookie": [downstream], "outcome": "verified", "client": true, "email": EMAIL})
    );
}

pub async fn two_cookie_fields_are_read_together_and_merged_into_one<A: AppUnderTest>() {
    let emu = emulator().await;
    let cookies = signed_in_cookies(&auth(&emu)).await;
    let auth = auth_ahead(&emu, 3550);
    let app = serve::<A>(&auth);
    let session = header_of(&cookies);

    let res = get_with(&app, "/echo", &["theme=dark; lang=en", &session]).await;

    assert_eq!(res.status, 200);
    let (lines, _) = expected_writes(&auth, &cookies).await;
    assert_eq!(res.set_cookies(), lines);
    let value = session_value(&lines[0]);
    assert_eq!(
        res.json(),
        json!({
            "cookie": [format!("theme=dark; lang=en; {SESSION}={value}")],
            "outcome": "verified",
            "client": true,
            "email": EMAIL,
        })
    );
    assert_eq!(refreshes(&emu), 1);
}

pub async fn without_writes_the_cookie_fields_are_left_alone<A: AppUnderTest>() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let session = header_of(&signed_in_cookies(&auth).await);
    let app = serve::<A>(&auth);

    let fields = ["a=%41;  b=2 ", session.as_str()];
    let res = get_with(&app, "/echo", &fields).await;

    assert_eq!(res.status, 200);
    // Each field as sent (the HTTP server trims the spaces around a field value).
    assert_eq!(
        res.json(),
        json!({"cookie": ["a=%41;  b=2", session], "outcome": "verified", "client": true, "email": EMAIL})
    );
    assert_eq!(res.set_cookies(), [] as [&str; 0]);
}

pub async fn static_files_are_skipped_entirely<A: AppUnderTest>() {
    let emu = emulator().await;
    let cookies = signed_in_cookies(&auth(&emu)).await;
    let header = header_of(&cookies);
    let app = serve::<A>(&auth_ahead(&emu, 3550));
    emu.clear_requests();

    let res = get_with(&app, "/assets/echo.css", &[&header]).await;

    assert_eq!(res.status, 200);
    assert_eq!(
        res.json(),
        json!({"cookie": [header], "outcome": null, "client": false, "email": null})
    );
    assert_eq!(res.set_cookies(), [] as [&str; 0]);
    assert_eq!(res.cache_headers(), no_cache_headers());
    assert_eq!(emu.requests().len(), 0, "{:?}", emu.requests());
}

pub async fn set_cookie_reaches_error_and_redirect_responses<A: AppUnderTest>() {
    let emu = emulator().await;
    let first = signed_in_cookies(&auth(&emu)).await;
    let second = signed_in_cookies(&auth(&emu)).await;
    let auth = auth_ahead(&emu, 3550);
    let app = serve::<A>(&auth);

    let res = get_with(&app, "/boom", &[&header_of(&first)]).await;
    assert_eq!(res.status, 500);
    assert_eq!(res.text(), "boom");
    let (lines, _) = expected_writes(&auth, &first).await;
    assert_eq!(res.set_cookies(), lines);
    assert_eq!(res.cache_headers(), no_store());

    let res = get_with(&app, "/redirect", &[&header_of(&second)]).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.header("location"), ["/elsewhere"]);
    let (lines, _) = expected_writes(&auth, &second).await;
    assert_eq!(res.set_cookies(), lines);
    assert_eq!(res.cache_headers(), no_store());
}

pub async fn cache_headers_replace_the_handlers_only_when_cookies_are_written<A: AppUnderTest>() {
    let emu = emulator().await;
    let cookies = signed_in_cookies(&auth(&emu)).await;

    let app = serve::<A>(&auth(&emu));
    let res = get_with(&app, "/cached", &[&header_of(&cookies)]).await;
    assert_eq!(res.text(), "cacheable");
    assert_eq!(
        res.cache_headers(),
        (vec!["public, max-age=3600".to_owned()], vec![], vec![])
    );
    drop(app);

    let app = serve::<A>(&auth_ahead(&emu, 3550));
    let res = get_with(&app, "/cached", &[&header_of(&cookies)]).await;
    assert_eq!(res.text(), "cacheable");
    assert_eq!(res.set_cookies().len(), 1);
    assert_eq!(res.cache_headers(), no_store());
}

pub async fn a_rejected_session_is_deleted_and_the_request_goes_on_signed_out<A: AppUnderTest>() {
    let emu = emulator().await;
    let cookies = signed_in_cookies(&auth(&emu)).await;
    // The session ends on the server (signed out elsewhere), then its access token expires.
    auth(&emu)
        .server_client(CookieJar::new(cookies.clone()))
        .sign_out(SignOutScope::Local)
        .await
        .unwrap();
    let app = serve::<A>(&auth_ahead(&emu, 3700));
    let header = format!("{}; theme=dark", header_of(&cookies));
    emu.clear_requests();

    let res = get_with(&app, "/echo", &[&header]).await;

    assert_eq!(res.status, 200);
    assert_eq!(
        res.json(),
        json!({"cookie": ["theme=dark"], "outcome": "failed", "client": true, "email": null})
    );
    assert_eq!(res.set_cookies(), [SESSION_DELETION]);
    assert_eq!(res.cache_headers(), no_store());
    assert_eq!(refreshes(&emu), 1);
}

pub async fn an_auth_outage_keeps_the_cookies_and_the_request_goes_on_signed_out<
    A: AppUnderTest,
>() {
    let emu = emulator().await;
    let cookies = signed_in_cookies(&auth(&emu)).await;
    let header = header_of(&cookies);
    let app = serve::<A>(&auth_ahead(&emu, 3700));
    emu.faults().only_paths(&["/token"]);
    emu.faults().fail_all(503).unwrap();

    for path in ["/echo", "/dashboard"] {
        let res = get_with(&app, path, &[&header]).await;
        assert_eq!(res.set_cookies(), [] as [&str; 0], "{path}");
        assert_eq!(res.cache_headers(), no_cache_headers(), "{path}");
        if path == "/echo" {
            assert_eq!(res.status, 200);
            assert_eq!(
                res.json(),
                json!({"cookie": [header], "outcome": "failed_transient", "client": true, "email": null})
            );
        } else {
            assert_eq!(res.status, 401, "never a 5xx");
        }
    }
    emu.faults().clear();
}

pub async fn verified_rejects_with_401_without_a_session<A: AppUnderTest>() {
    let emu = emulator().await;
    let app = serve::<A>(&auth(&emu));

    let res = get_with(&app, "/dashboard", &[]).await;

    assert_eq!(res.status, 401);
    assert_eq!(res.text(), "sign-in required");
    assert_eq!(res.header("content-type"), ["text/plain; charset=utf-8"]);
    assert_eq!(res.set_cookies(), [] as [&str; 0]);
}

pub async fn verified_redirects_to_the_login_path_with_next<A: AppUnderTest>() {
    let emu = emulator().await;
    for (login_path, expected) in [
        (
            "/sign-in",
            "/sign-in?next=%2Fdashboard%3Ftab%3D1%26x%3D%25C3%25A9",
        ),
        (
            "/auth?from=app",
            "/auth?from=app&next=%2Fdashboard%3Ftab%3D1%26x%3D%25C3%25A9",
        ),
    ] {
        let app = A::serve(AppConfig {
            auth: auth(&emu),
            login_path: Some(login_path.into()),
        });
        let res = get_with(&app, "/dashboard?tab=1&x=%C3%A9", &["theme=dark"]).await;
        assert_eq!(res.status, 303, "{login_path}");
        assert_eq!(res.header("location"), [expected]);
        assert_eq!(res.body, b"");
        assert_eq!(res.set_cookies(), [] as [&str; 0]);
    }
}

pub async fn verified_hands_over_the_claims_of_a_session<A: AppUnderTest>() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let cookies = signed_in_cookies(&auth).await;
    let app = serve::<A>(&auth);

    let res = get_with(&app, "/dashboard", &[&header_of(&cookies)]).await;

    assert_eq!(res.status, 200);
    assert_eq!(res.text(), format!("dashboard of {EMAIL}"));
}

pub async fn extractors_on_a_skipped_path_fail_closed<A: AppUnderTest>() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let cookies = signed_in_cookies(&auth).await;
    let app = serve::<A>(&auth);
    emu.clear_requests();

    for (path, extractor) in [
        ("/unlayered/dashboard", "`Verified`"),
        ("/unlayered/client", "`Supabase`"),
    ] {
        let res = get_with(&app, path, &[&header_of(&cookies)]).await;
        assert_eq!(res.status, 500, "{path}");
        let text = res.text();
        assert!(
            text.starts_with(&format!("the {extractor} extractor found nothing from ")),
            "{text}"
        );
        assert_eq!(res.set_cookies(), [] as [&str; 0]);
    }
    assert_eq!(emu.requests().len(), 0);
}

pub async fn a_handler_that_signs_in_writes_the_session_to_the_response<A: AppUnderTest>() {
    let emu = emulator().await;
    let app = serve::<A>(&auth(&emu));

    let res = send(&app, "POST", "/sign-in", &[("cookie", b"theme=dark")]).await;

    assert_eq!(res.status, 303);
    assert_eq!(res.header("location"), ["/dashboard"]);
    let lines = res.set_cookies();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let value = session_value(&lines[0]);
    assert_eq!(decoded_session(&value)["user"]["email"], EMAIL);
    assert_eq!(res.cache_headers(), no_store());

    // The browser sends it back: signed in.
    let cookie = format!("theme=dark; {SESSION}={value}");
    let res = get_with(&app, "/dashboard", &[&cookie]).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), format!("dashboard of {EMAIL}"));
}

pub async fn a_handler_that_signs_out_deletes_the_session_cookie<A: AppUnderTest>() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let cookies = signed_in_cookies(&auth).await;
    let app = serve::<A>(&auth);
    emu.clear_requests();

    let res = send(
        &app,
        "POST",
        "/sign-out",
        &[("cookie", header_of(&cookies).as_bytes())],
    )
    .await;

    assert_eq!(res.status, 303);
    assert_eq!(res.header("location"), ["/"]);
    assert_eq!(res.set_cookies(), [SESSION_DELETION]);
    assert_eq!(res.cache_headers(), no_store());
    let logouts = emu
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/logout"))
        .count();
    assert_eq!(logouts, 1);
    drop(app);

    // The old cookies no longer sign anyone in once the access token expires.
    let app = serve::<A>(&auth_ahead(&emu, 3700));
    let res = get_with(&app, "/dashboard", &[&header_of(&cookies)]).await;
    assert_eq!(res.status, 401);
}

pub async fn set_cookie_lines_the_handler_already_added_are_not_repeated<A: AppUnderTest>() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let cookies = signed_in_cookies(&auth).await;
    let app = serve::<A>(&auth);

    let res = send(
        &app,
        "POST",
        "/sign-out-by-hand",
        &[("cookie", header_of(&cookies).as_bytes())],
    )
    .await;

    assert_eq!(res.status, 303);
    assert_eq!(res.set_cookies(), [SESSION_DELETION, "theme=dark; Path=/"]);
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token's header and payload, decoded, and its signature.
fn token_parts(token: &str) -> (Value, Value, String) {
    let parts: Vec<&str> = token.split('.').collect();
    let decode = |part: &str| serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap());
    (
        decode(parts[0]).unwrap(),
        decode(parts[1]).unwrap(),
        parts[2].to_owned(),
    )
}

fn assemble(header: &Value, payload: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    )
}

/// A session cookie holding these tokens, otherwise like a real one.
fn session_cookie(real: &Value, access_token: &str) -> String {
    let mut session = real.clone();
    session["access_token"] = json!(access_token);
    format!("{SESSION}={}", to_base64_value(&session.to_string()))
}

pub async fn forged_sessions_never_reach_a_verified_handler<A: AppUnderTest>() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let cookies = signed_in_cookies(&auth).await;
    let real = decoded_session(value_of(&cookies, SESSION));
    let token = real["access_token"].as_str().unwrap().to_owned();
    let (header, payload, signature) = token_parts(&token);
    // A token from another Auth server: signed by a key this project never published.
    let other = EmulatorConfig::default().start().await.unwrap();
    let foreign = other.sign_jwt(&payload).unwrap();
    let (_, _, foreign_signature) = token_parts(&foreign);
    let tampered = |key: &str, value: Value| {
        let mut changed = payload.clone();
        changed[key] = value;
        assemble(&header, &changed, &signature)
    };
    let cases = [
        (
            "another user's id",
            tampered("sub", json!("00000000-0000-4000-8000-000000000000")),
        ),
        ("admin role", tampered("role", json!("service_role"))),
        ("later exp", tampered("exp", json!(4_102_444_800_i64))),
        (
            "alg none",
            assemble(&json!({"alg": "none", "typ": "JWT"}), &payload, ""),
        ),
        (
            "another key's signature under the published kid",
            assemble(&header, &payload, &foreign_signature),
        ),
        ("not a JWT", "not-a-jwt".to_owned()),
    ];
    let app = serve::<A>(&auth);
    for (name, forged) in cases {
        let cookie = session_cookie(&real, &forged);
        emu.clear_requests();

        let res = get_with(&app, "/dashboard", &[&cookie]).await;
        assert_eq!(res.status, 401, "{name}");
        assert_eq!(res.set_cookies(), [] as [&str; 0], "{name}: cookies kept");

        let res = get_with(&app, "/echo", &[&cookie]).await;
        assert_eq!(
            res.json(),
            json!({"cookie": [cookie], "outcome": "failed", "client": true, "email": null}),
            "{name}"
        );
        let refreshes_tried = emu
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/token"))
            .count();
        assert_eq!(refreshes_tried, 0, "{name}: no refresh attempted");
    }
    // Control: the real session.
    let res = get_with(&app, "/dashboard", &[&session_cookie(&real, &token)]).await;
    assert_eq!(res.status, 200);
}

pub async fn a_session_that_is_not_base64_is_ignored<A: AppUnderTest>() {
    let emu = emulator().await;
    let app = serve::<A>(&auth(&emu));
    // Undecodable values are treated as absent and left alone, as `@supabase/ssr` does.
    for cookie in [
        "sb-127-auth-token=base64-!!!not*base64",
        "sb-127-auth-token=base64-%%%; theme=dark",
        "sb-127-auth-token=base64-",
        "sb-127-auth-token.0=base64-eyJh; sb-127-auth-token.1=@@@",
        "sb-127-auth-token",
        ";;; = ; =x; sb-127-auth-token=",
    ] {
        let res = get_with(&app, "/echo", &[cookie]).await;
        assert_eq!(res.status, 200, "{cookie}");
        assert_eq!(
            res.json(),
            json!({"cookie": [cookie], "outcome": "no_session", "client": true, "email": null}),
            "{cookie}"
        );
        assert_eq!(res.set_cookies(), [] as [&str; 0], "{cookie}");
    }
}

pub async fn a_session_that_is_json_but_not_a_session_is_deleted<A: AppUnderTest>() {
    let emu = emulator().await;
    let app = serve::<A>(&auth(&emu));
    for json in [
        "{}",
        "{\"foo\":1}",
        "[1,2,3]",
        "{\"access_token\":5,\"refresh_token\":null}",
        "null",
    ] {
        let cookie = format!("{SESSION}={}; theme=dark", to_base64_value(json));
        let res = get_with(&app, "/echo", &[&cookie]).await;
        assert_eq!(res.status, 200, "{json}");
        assert_eq!(
            res.json(),
            json!({"cookie": ["theme=dark"], "outcome": "no_session", "client": true, "email": null}),
            "{json}"
        );
        assert_eq!(res.set_cookies(), [SESSION_DELETION], "{json}");
        assert_eq!(res.cache_headers(), no_store(), "{json}");
    }
    // Alone: no cookie is left, so handlers get no Cookie header at all.
    let cookie = format!("{SESSION}={}", to_base64_value("{}"));
    let res = get_with(&app, "/echo", &[&cookie]).await;
    assert_eq!(
        res.json(),
        json!({"cookie": [], "outcome": "no_session", "client": true, "email": null})
    );
    assert_eq!(res.set_cookies(), [SESSION_DELETION]);
}

pub async fn cookie_bytes_that_are_not_utf8_survive_the_rewrite<A: AppUnderTest>() {
    let emu = emulator().await;
    let cookies = signed_in_cookies(&auth(&emu)).await;
    let auth = auth_ahead(&emu, 3550);
    let app = serve::<A>(&auth);
    let mut raw = b"odd=\xff\xfe; ".to_vec();
    raw.extend_from_slice(header_of(&cookies).as_bytes());

    let res = send(&app, "GET", "/echo-bytes", &[("cookie", &raw)]).await;

    assert_eq!(res.status, 200);
    let (lines, _) = expected_writes(&auth, &cookies).await;
    assert_eq!(res.set_cookies(), lines);
    let value = session_value(&lines[0]);
    let mut expected = b"odd=\xff\xfe; ".to_vec();
    expected.extend_from_slice(format!("{SESSION}={value}").as_bytes());
    assert_eq!(res.body, expected);
}

pub async fn a_refresh_storm_makes_one_refresh_and_every_response_carries_the_same_session<
    A: AppUnderTest,
>() {
    let emu = emulator().await;
    let cookies = signed_in_cookies(&auth(&emu)).await;
    let old = value_of(&cookies, SESSION).to_owned();
    let header = header_of(&cookies);
    let app = std::sync::Arc::new(serve::<A>(&auth_ahead(&emu, 3550)));
    emu.clear_requests();

    let mut tasks = Vec::new();
    for i in 0..50 {
        let (app, header) = (app.clone(), header.clone());
        tasks.push(tokio::spawn(async move {
            get_with(&app, &format!("/echo?i={i}"), &[&header]).await
        }));
    }
    let mut answers: Vec<Answer> = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }

    assert_eq!(refreshes(&emu), 1, "{:?}", emu.requests());
    let first = answers[0].set_cookies();
    assert_eq!(first.len(), 1);
    let value = session_value(&first[0]);
    assert!(value.starts_with("base64-") && value != old);
    for res in &answers {
        assert_eq!(res.status, 200);
        assert_eq!(
            res.set_cookies(),
            first,
            "every response carries the same session"
        );
        assert_eq!(
            res.json(),
            json!({"cookie": [format!("{SESSION}={value}")], "outcome": "verified", "client": true, "email": EMAIL})
        );
    }
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn error(code: &str, message: &str) -> Value {
    json!({ "code": code, "message": message })
}

async fn api(app: &crate::RunningApp, path: &str, headers: &[(&str, &str)]) -> Answer {
    let headers: Vec<(&str, &[u8])> = headers.iter().map(|(n, v)| (*n, v.as_bytes())).collect();
    send(app, "GET", path, &headers).await
}

fn access_token(cookies: &[Cookie]) -> String {
    decoded_session(value_of(cookies, SESSION))["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn sub_of(token: &str) -> Value {
    token_parts(token).1["sub"].clone()
}

pub async fn api_a_valid_bearer_token_is_the_user_and_writes_no_cookie<A: AppUnderTest>() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let token = access_token(&signed_in_cookies(&auth).await);
    let app = serve::<A>(&auth);
    emu.clear_requests();

    for path in ["/api/user", "/api/open"] {
        let res = api(&app, path, &[("authorization", &bearer(&token))]).await;
        assert_eq!(res.status, 200, "{path}");
        assert_eq!(
            res.json(),
            json!({"mode": "user", "id": sub_of(&token), "key": null})
        );
        assert_eq!(res.set_cookies(), [] as [&str; 0]);
        assert_eq!(res.header("cache-control"), [] as [&str; 0]);
    }
    let paths: Vec<String> = emu.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/auth/v1/.well-known/jwks.json"]);
}

pub async fn api_bad_bearer_tokens_are_401_invalid_token<A: AppUnderTest>() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let token = access_token(&signed_in_cookies(&auth).await);
    let (_, claims, _) = token_parts(&token);
    let alg_none = assemble(&json!({"alg": "none", "typ": "JWT"}), &claims, "");
    let mut expired = claims.clone();
    expired["exp"] = json!(claims["iat"].as_i64().unwrap() - 10);
    let expired = emu.sign_jwt(&expired).unwrap();
    let app = serve::<A>(&auth);

    let cases = [
        (
            "not-a-jwt",
            "the bearer token was rejected: invalid JWT: malformed JWT: not three dot-separated parts",
        ),
        (
            alg_none.as_str(),
            "the bearer token was rejected: invalid JWT: JWT algorithm `none` is not accepted",
        ),
        (
            expired.as_str(),
            "the bearer token was rejected: invalid JWT: JWT has expired",
        ),
    ];
    for path in ["/api/user", "/api/open"] {
        for (token, message) in cases {
            let res = api(&app, path, &[("authorization", &bearer(token))]).await;
            assert_eq!(res.status, 401, "{path} {message}");
            assert_eq!(res.json(), error("invalid_token", message));
            assert_eq!(
                res.header("www-authenticate"),
                [r#"Bearer error="invalid_token""#]
            );
            assert_eq!(res.header("content-type"), ["application/json"]);
        }
    }
}

pub async fn api_missing_credentials_and_anonymous_callers<A: AppUnderTest>() {
    let emu = emulator().await;
    let app = serve::<A>(&auth(&emu));

    let res = api(&app, "/api/user", &[]).await;
    assert_eq!(res.status, 401);
    assert_eq!(
        res.json(),
        error(
            "missing_credentials",
            "credentials required: this endpoint accepts user"
        )
    );
    assert_eq!(res.header("www-authenticate"), ["Bearer"]);

    for headers in [
        &[][..],
        &[("authorization", "Bearer ")],
        &[("authorization", "Basic dXNlcjpwYXNz")],
    ] {
        let res = api(&app, "/api/open", headers).await;
        assert_eq!(res.status, 200, "{headers:?}");
        assert_eq!(res.json(), json!({"mode": "none", "id": null, "key": null}));
    }
    let res = api(
        &app,
        "/api/open",
        &[("authorization", "Bearer a"), ("authorization", "Bearer b")],
    )
    .await;
    assert_eq!(res.status, 401);
    assert_eq!(
        res.json(),
        error(
            "invalid_token",
            "the Authorization header cannot be read: more than one Authorization header"
        )
    );
}

pub async fn api_keys_match_by_kind<A: AppUnderTest>() {
    let emu = emulator().await;
    let app = serve::<A>(&auth(&emu));
    let cases = [
        (
            SECRET,
            200,
            json!({"mode": "secret", "id": null, "key": "automations"}),
        ),
        (
            WEB_KEY,
            200,
            json!({"mode": "publishable", "id": null, "key": "web"}),
        ),
        (
            emu.publishable_key(),
            200,
            json!({"mode": "publishable", "id": null, "key": "default"}),
        ),
        (
            "sb_secret_wrong",
            401,
            error(
                "invalid_api_key",
                "the apikey header matches none of the keys this endpoint accepts",
            ),
        ),
    ];
    for (key, status, body) in cases {
        let res = api(&app, "/api/key", &[("apikey", key)]).await;
        assert_eq!(res.status, status, "{key}");
        assert_eq!(res.json(), body, "{key}");
    }
}

pub async fn api_the_cookie_session_mode_reads_the_proxys_client<A: AppUnderTest>() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let cookies = signed_in_cookies(&auth).await;
    let token = access_token(&cookies);
    let app = serve::<A>(&auth);

    let res = api(&app, "/api/session", &[("cookie", &header_of(&cookies))]).await;
    assert_eq!(res.status, 200);
    assert_eq!(
        res.json(),
        json!({"mode": "session", "id": sub_of(&token), "key": null})
    );

    let res = api(&app, "/api/session", &[]).await;
    assert_eq!(res.status, 401);
    assert_eq!(
        res.json(),
        error(
            "missing_credentials",
            "credentials required: this endpoint accepts session"
        )
    );
}

pub async fn api_signing_keys_unreachable_is_503<A: AppUnderTest>() {
    let emu = emulator().await;
    let auth = builder(&emu)
        .retry_budget(std::time::Duration::from_millis(300))
        .build()
        .unwrap();
    let token = access_token(&signed_in_cookies(&auth).await);
    let app = serve::<A>(&auth);
    emu.faults().jwks_outage(true);

    let res = api(&app, "/api/open", &[("authorization", &bearer(&token))]).await;

    assert_eq!(res.status, 503);
    assert_eq!(res.json()["code"], "auth_unavailable");
    assert_eq!(res.header("www-authenticate"), [] as [&str; 0]);
    emu.faults().clear();
}
