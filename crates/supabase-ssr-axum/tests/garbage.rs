//! Cookies no browser of ours wrote: the handler always runs, nothing becomes a 500,
//! and the layer never panics.
#![allow(clippy::unwrap_used)]

mod support;

use axum::Router;
use axum::body::Body;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, Request};
use axum::routing::get;
use serde_json::json;
use supabase_ssr::adapter::codec::to_base64_value;
use supabase_ssr_axum::SupabaseLayer;
use support::*;
use tower::ServiceExt;

/// Sends `cookie` to the echo handler and returns the answer.
async fn echo_with(cookie: &str) -> Answer {
    let emu = emulator().await;
    send(
        &app(SupabaseLayer::new(auth(&emu))),
        get_with("/page", &[cookie]),
    )
    .await
}

#[tokio::test]
async fn a_session_that_is_not_base64_is_ignored() {
    // Undecodable values are treated as absent and left alone, as `@supabase/ssr` does.
    for cookie in [
        "sb-127-auth-token=base64-!!!not*base64",
        "sb-127-auth-token=base64-%%%; theme=dark",
        "sb-127-auth-token=base64-",
        "sb-127-auth-token.0=base64-eyJh; sb-127-auth-token.1=@@@",
        "sb-127-auth-token",
        ";;; = ; =x; sb-127-auth-token=",
    ] {
        let res = echo_with(cookie).await;
        assert_eq!(res.status, 200, "{cookie}");
        assert_eq!(
            res.json(),
            json!({"cookie": [cookie], "outcome": "no_session", "client": true, "email": null}),
            "{cookie}"
        );
        assert!(res.set_cookies().is_empty(), "{cookie}");
    }
}

#[tokio::test]
async fn a_session_that_is_json_but_not_a_session_is_deleted() {
    for json in [
        "{}",
        "{\"foo\":1}",
        "[1,2,3]",
        "{\"access_token\":5,\"refresh_token\":null}",
        "\"just a string\"",
        "null",
    ] {
        let cookie = format!("{SESSION}={}; theme=dark", to_base64_value(json));
        let res = echo_with(&cookie).await;
        assert_eq!(res.status, 200, "{json}");
        assert_eq!(
            res.json(),
            json!({"cookie": ["theme=dark"], "outcome": "no_session", "client": true, "email": null}),
            "{json}"
        );
        assert_eq!(res.set_cookies(), [SESSION_DELETION], "{json}");
        assert_eq!(res.cache_headers(), no_store(), "{json}");
    }
}

#[tokio::test]
async fn a_one_mebibyte_cookie_header_is_handled() {
    let emu = emulator().await;
    let app = app(SupabaseLayer::new(auth(&emu)));
    let mut cookie = format!("junk={}", "x".repeat(1 << 20));
    for i in 0..200 {
        cookie.push_str(&format!("; {SESSION}.{i}=base64-{}", "A".repeat(100)));
    }
    let res = send(&app, get_with("/page", &[&cookie])).await;
    assert_eq!(res.status, 200);
    assert_eq!(
        res.json(),
        json!({"cookie": [cookie], "outcome": "no_session", "client": true, "email": null})
    );
    assert!(res.set_cookies().is_empty());
    assert!(emu.requests().is_empty());
}

#[tokio::test]
async fn cookie_bytes_that_are_not_utf8_survive_the_rewrite() {
    let emu = emulator().await;
    let cookies = signed_in_cookies(&auth(&emu)).await;
    let auth = auth_ahead(&emu, 3550);
    let app = Router::new()
        .route(
            "/raw",
            get(|headers: HeaderMap| async move {
                headers
                    .get(COOKIE)
                    .map(|v| v.as_bytes().to_vec())
                    .unwrap_or_default()
            }),
        )
        .layer(SupabaseLayer::new(auth.clone()));
    let mut raw = b"odd=\xff\xfe; ".to_vec();
    raw.extend_from_slice(header_of(&cookies).as_bytes());
    let mut req = Request::builder().uri("/raw").body(Body::empty()).unwrap();
    req.headers_mut()
        .insert(COOKIE, HeaderValue::from_bytes(&raw).unwrap());

    let res = app.oneshot(req).await.unwrap();

    assert_eq!(res.status(), 200);
    let (lines, _) = expected_writes(&auth, &cookies).await;
    let set_cookies: Vec<&[u8]> = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();
    assert_eq!(set_cookies, [lines[0].as_bytes()]);
    let value = lines[0]
        .strip_prefix("sb-127-auth-token=")
        .and_then(|rest| rest.strip_suffix(ATTRIBUTES))
        .unwrap();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    let mut expected = b"odd=\xff\xfe; ".to_vec();
    expected.extend_from_slice(format!("{SESSION}={value}").as_bytes());
    assert_eq!(body.as_ref(), expected.as_slice());
}

#[tokio::test]
async fn cookie_settings_that_make_invalid_headers_are_skipped_without_a_panic() {
    let emu = emulator().await;
    // A domain with a line break cannot go into a Set-Cookie header.
    let auth = builder(&emu).cookie_domain("bad\ndomain").build().unwrap();
    let app = app(SupabaseLayer::new(auth));

    let (guard, logs) = capture_logs();
    let res = send(&app, request("POST", "/sign-in", &[])).await;
    drop(guard);

    assert_eq!(res.status, 303);
    assert!(res.set_cookies().is_empty());
    assert_eq!(res.cache_headers(), no_store());
    assert!(
        logs.text()
            .contains("a Set-Cookie line is not a valid header value"),
        "{}",
        logs.text()
    );
}
