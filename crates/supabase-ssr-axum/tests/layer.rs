//! The layer in process (`oneshot`) against the emulator: what the handler sees, what
//! the response carries, which requests are skipped, and failures.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::json;
use supabase_ssr::SignOutScope;
use supabase_ssr::adapter::codec::decode_value;
use supabase_ssr::cookies::{CookieJar, CookieOptions, SetCookie};
use supabase_ssr_axum::SupabaseLayer;
use support::*;

#[tokio::test]
async fn a_fresh_session_is_verified_and_nothing_is_written() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let cookies = signed_in_cookies(&auth).await;
    let header = format!("theme=dark; {}", header_of(&cookies));
    emu.clear_requests();

    let res = send(
        &app(SupabaseLayer::new(auth)),
        get_with("/page", &[&header]),
    )
    .await;

    assert_eq!(res.status, 200);
    assert_eq!(
        res.json(),
        json!({"cookie": [header], "outcome": "verified", "client": true, "email": EMAIL})
    );
    assert!(res.set_cookies().is_empty());
    assert_eq!(res.cache_headers(), no_cache_headers());
    assert_eq!(refreshes(&emu), 0);
    assert_eq!(
        emu.requests().len(),
        1,
        "only the JWKS: {:?}",
        emu.requests()
    );
}

#[tokio::test]
async fn an_expiring_session_is_refreshed_for_the_handler_and_the_browser() {
    let emu = emulator().await;
    let cookies = signed_in_cookies(&auth(&emu)).await;
    let old = value_of(&cookies, SESSION).to_owned();
    let auth = auth_ahead(&emu, 3550);
    emu.clear_requests();

    let res = send(
        &app(SupabaseLayer::new(auth.clone())),
        get_with("/page", &[&header_of(&cookies)]),
    )
    .await;

    assert_eq!(res.status, 200);
    assert_eq!(refreshes(&emu), 1);
    let (lines, downstream) = expected_writes(&auth, &cookies).await;
    assert_eq!(refreshes(&emu), 1, "the reference run shared the refresh");
    assert_eq!(res.set_cookies(), lines);
    assert_eq!(lines.len(), 1);

    // The exact bytes: the core's serialization of the new value, in cookie.serialize order.
    let line = &lines[0];
    let value = line
        .strip_prefix("sb-127-auth-token=")
        .and_then(|rest| rest.strip_suffix(ATTRIBUTES))
        .unwrap();
    assert!(value.starts_with("base64-") && value != old);
    let set = SetCookie {
        name: SESSION.into(),
        value: value.into(),
        options: CookieOptions::default_set(),
    };
    assert_eq!(&set.to_header_value(), line);
    let session: serde_json::Value = serde_json::from_str(&decode_value(value).unwrap()).unwrap();
    assert_eq!(session["user"]["email"], EMAIL);

    // The handler saw the refreshed session, in one Cookie field.
    assert_eq!(downstream, format!("{SESSION}={value}"));
    assert_eq!(
        res.json(),
        json!({"cookie": [downstream], "outcome": "verified", "client": true, "email": EMAIL})
    );
    assert_eq!(res.cache_headers(), no_store());
}

#[tokio::test]
async fn two_cookie_fields_are_read_together_and_merged_into_one() {
    let emu = emulator().await;
    let cookies = signed_in_cookies(&auth(&emu)).await;
    let auth = auth_ahead(&emu, 3550);
    let fields = [
        format!("theme=dark; {}", header_of(&cookies)),
        "lang=en%2DGB; x=1".to_owned(),
    ];
    emu.clear_requests();

    let res = send(
        &app(SupabaseLayer::new(auth.clone())),
        get_with("/page", &[&fields[0], &fields[1]]),
    )
    .await;

    assert_eq!(refreshes(&emu), 1);
    let (lines, _) = expected_writes(&auth, &cookies).await;
    assert_eq!(res.set_cookies(), lines);
    let value = lines[0]
        .strip_prefix("sb-127-auth-token=")
        .and_then(|rest| rest.strip_suffix(ATTRIBUTES))
        .unwrap();
    // Other cookies keep their bytes (`%2D` is not decoded), in their order.
    assert_eq!(
        res.json()["cookie"],
        json!([format!("theme=dark; {SESSION}={value}; lang=en%2DGB; x=1")])
    );
    assert_eq!(res.json()["outcome"], "verified");
}

#[tokio::test]
async fn without_writes_the_cookie_fields_are_left_alone() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let cookies = signed_in_cookies(&auth).await;
    let fields = [header_of(&cookies), "lang=en".to_owned()];

    let res = send(
        &app(SupabaseLayer::new(auth)),
        get_with("/page", &[&fields[0], &fields[1]]),
    )
    .await;

    assert_eq!(res.json()["cookie"], json!(fields));
    assert_eq!(res.json()["outcome"], "verified");
    assert!(res.set_cookies().is_empty());
}

#[tokio::test]
async fn static_files_are_skipped_entirely() {
    let emu = emulator().await;
    let cookies = signed_in_cookies(&auth(&emu)).await;
    let header = header_of(&cookies);
    let app = app(SupabaseLayer::new(auth_ahead(&emu, 3550)));
    emu.clear_requests();

    for path in [
        "/static/x.css",
        "/assets/app.js",
        "/logo.PNG",
        "/favicon.ico",
    ] {
        let res = send(&app, get_with(path, &[&header])).await;
        assert_eq!(res.status, 200, "{path}");
        assert_eq!(
            res.json(),
            json!({"cookie": [header], "outcome": null, "client": false, "email": null}),
            "{path}"
        );
        assert!(res.set_cookies().is_empty(), "{path}");
        assert_eq!(res.cache_headers(), no_cache_headers(), "{path}");
    }
    assert!(emu.requests().is_empty(), "{:?}", emu.requests());

    // The same session on a page is refreshed.
    let res = send(&app, get_with("/page.html", &[&header])).await;
    assert_eq!(res.set_cookies().len(), 1);
    assert_eq!(refreshes(&emu), 1);
}

#[tokio::test]
async fn skip_if_replaces_the_default_matcher() {
    let emu = emulator().await;
    let app = app(SupabaseLayer::new(auth(&emu))
        .skip_if(|parts: &axum::http::request::Parts| parts.uri.path().starts_with("/public/")));

    let res = send(&app, get_with("/public/page", &[])).await;
    assert_eq!(res.json()["client"], false);
    let res = send(&app, get_with("/static/x.css", &[])).await;
    assert_eq!(res.json()["client"], true);
    assert_eq!(res.json()["outcome"], "no_session");
}

#[tokio::test]
async fn set_cookie_reaches_error_and_redirect_responses() {
    let emu = emulator().await;
    let cookies = signed_in_cookies(&auth(&emu)).await;
    let header = header_of(&cookies);
    let auth = auth_ahead(&emu, 3550);
    let app = app(SupabaseLayer::new(auth.clone()));

    let res = send(&app, get_with("/boom", &[&header])).await;
    assert_eq!(res.status, 500);
    assert_eq!(res.body, "boom");
    let (lines, _) = expected_writes(&auth, &cookies).await;
    assert_eq!(res.set_cookies(), lines);
    assert_eq!(res.cache_headers(), no_store());

    // A second request with the old cookies, within the reuse window, gets the same
    // rotated session: on a redirect too.
    let res = send(&app, get_with("/redirect", &[&header])).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.header("location"), ["/elsewhere"]);
    assert_eq!(res.set_cookies(), lines);
    assert_eq!(res.cache_headers(), no_store());
    assert_eq!(refreshes(&emu), 1);
}

#[tokio::test]
async fn cache_headers_replace_the_handlers_only_when_cookies_are_written() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let cookies = signed_in_cookies(&auth).await;
    let header = header_of(&cookies);

    let res = send(
        &app(SupabaseLayer::new(auth)),
        get_with("/cached", &[&header]),
    )
    .await;
    assert!(res.set_cookies().is_empty());
    assert_eq!(
        res.cache_headers(),
        (vec!["public, max-age=3600".into()], vec![], vec![])
    );

    let res = send(
        &app(SupabaseLayer::new(auth_ahead(&emu, 3550))),
        get_with("/cached", &[&header]),
    )
    .await;
    assert_eq!(res.set_cookies().len(), 1);
    assert_eq!(res.cache_headers(), no_store());
}

#[tokio::test]
async fn a_second_layer_inside_the_first_does_nothing() {
    let emu = emulator().await;
    let cookies = signed_in_cookies(&auth(&emu)).await;
    let auth = auth_ahead(&emu, 3550);
    let app = routes()
        .layer(SupabaseLayer::new(auth.clone()))
        .layer(SupabaseLayer::new(auth.clone()));
    emu.clear_requests();

    let res = send(&app, get_with("/page", &[&header_of(&cookies)])).await;

    let (lines, downstream) = expected_writes(&auth, &cookies).await;
    assert_eq!(res.set_cookies(), lines);
    assert_eq!(res.json()["cookie"], json!([downstream]));
    assert_eq!(refreshes(&emu), 1);
}

#[tokio::test]
async fn a_rejected_session_is_deleted_and_the_request_goes_on_signed_out() {
    let emu = emulator().await;
    let cookies = signed_in_cookies(&auth(&emu)).await;
    // The session ends on the server (signed out elsewhere), then its access token expires.
    auth(&emu)
        .server_client(CookieJar::new(cookies.clone()))
        .sign_out(SignOutScope::Local)
        .await
        .unwrap();
    let auth = auth_ahead(&emu, 3700);
    let header = format!("{}; theme=dark", header_of(&cookies));
    emu.clear_requests();

    let (guard, logs) = capture_logs();
    let res = send(
        &app(SupabaseLayer::new(auth)),
        get_with("/page", &[&header]),
    )
    .await;
    drop(guard);

    assert_eq!(res.status, 200);
    assert_eq!(
        res.json(),
        json!({"cookie": ["theme=dark"], "outcome": "failed", "client": true, "email": null})
    );
    assert_eq!(res.set_cookies(), [SESSION_DELETION]);
    assert_eq!(res.cache_headers(), no_store());
    assert_eq!(refreshes(&emu), 1);

    let logs = logs.text();
    assert!(
        logs.contains("WARN") && logs.contains("the session was rejected"),
        "{logs}"
    );
    let session: serde_json::Value =
        serde_json::from_str(&decode_value(value_of(&cookies, SESSION)).unwrap()).unwrap();
    for secret in ["access_token", "refresh_token"] {
        let token = session[secret].as_str().unwrap();
        assert!(!logs.contains(token), "{secret} leaked into the logs");
    }
    assert!(!logs.contains(value_of(&cookies, SESSION)));
}

#[tokio::test]
async fn an_auth_outage_keeps_the_cookies_and_the_request_goes_on_signed_out() {
    let emu = emulator().await;
    let cookies = signed_in_cookies(&auth(&emu)).await;
    let header = header_of(&cookies);
    let auth = auth_ahead(&emu, 3700);
    emu.faults().only_paths(&["/token"]);
    emu.faults().fail_all(503).unwrap();

    let res = send(
        &app(SupabaseLayer::new(auth)),
        get_with("/page", &[&header]),
    )
    .await;

    assert_eq!(res.status, 200);
    assert_eq!(
        res.json(),
        json!({"cookie": [header], "outcome": "failed_transient", "client": true, "email": null})
    );
    assert!(res.set_cookies().is_empty());
    assert_eq!(res.cache_headers(), no_cache_headers());
}
