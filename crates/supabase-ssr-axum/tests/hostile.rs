//! Hostile input and Auth outages through the proxy: forged sessions never reach a
//! `Verified` handler, outages keep cookies and never become a 5xx, oversized cookie
//! sets cost linear time, and a flood of unknown `kid`s is bounded. Each case asserts
//! the status code, what the handler saw, and the `Set-Cookie` lines.
//!
//! The outcomes are summarised in `RELIABILITY.md` at the repository root.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{Value, json};
use supabase_auth_emulator::EmulatorConfig;
use supabase_ssr::adapter::codec::{decode_base64url, decode_value, to_base64_value};
use supabase_ssr::cookies::Cookie;
use supabase_ssr_axum::SupabaseLayer;
use support::*;

const BUDGET: Duration = Duration::from_millis(800);
const SLACK: Duration = Duration::from_millis(1200);

fn b64(text: &str) -> String {
    to_base64_value(text)
        .strip_prefix("base64-")
        .unwrap()
        .to_owned()
}

/// A JWT's three parts, header and payload decoded.
fn parts(token: &str) -> (Value, Value, String) {
    let mut it = token.split('.');
    let header = serde_json::from_str(&decode_base64url(it.next().unwrap()).unwrap()).unwrap();
    let payload = serde_json::from_str(&decode_base64url(it.next().unwrap()).unwrap()).unwrap();
    (header, payload, it.next().unwrap().to_owned())
}

fn assemble(header: &Value, payload: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        b64(&header.to_string()),
        b64(&payload.to_string())
    )
}

/// The session stored in `cookies`.
fn stored_session(cookies: &[Cookie]) -> Value {
    serde_json::from_str(&decode_value(value_of(cookies, SESSION)).unwrap()).unwrap()
}

/// A session cookie holding `access_token` that claims to expire in a day, so the
/// proxy does not try to refresh it: the token alone decides.
fn session_cookie(access_token: &str, refresh_token: &str) -> String {
    let far = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
        + 86_400;
    let session = json!({
        "access_token": access_token, "token_type": "bearer", "expires_in": 3600,
        "expires_at": far, "refresh_token": refresh_token, "user": {"id": "x"},
    });
    format!(
        "{SESSION}={}; theme=dark",
        to_base64_value(&session.to_string())
    )
}

/// Switches one kind of outage on.
type Outage = fn(&supabase_auth_emulator::Emulator);

fn count(emu: &supabase_auth_emulator::Emulator, path: &str) -> usize {
    emu.requests()
        .iter()
        .filter(|r| r.path.ends_with(path))
        .count()
}

#[tokio::test]
async fn forged_sessions_never_reach_a_verified_handler() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let real = stored_session(&signed_in_cookies(&auth).await);
    let token = real["access_token"].as_str().unwrap().to_owned();
    let rt = real["refresh_token"].as_str().unwrap().to_owned();
    let (header, payload, signature) = parts(&token);
    // A token from another Auth server: signed by a key this project never published.
    let other = emulator().await;
    let foreign = stored_session(&signed_in_cookies(&support::auth(&other)).await)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (foreign_header, foreign_payload, foreign_signature) = parts(&foreign);
    // Its issuer made ours, so only the signature (and the unknown kid) give it away.
    let mut ours = foreign_payload.clone();
    ours["iss"] = payload["iss"].clone();
    let unknown_kid = assemble(&foreign_header, &ours, &foreign_signature);

    let tampered = |change: Value| {
        let mut p = payload.clone();
        for (k, v) in change.as_object().unwrap() {
            if v.is_null() {
                p.as_object_mut().unwrap().remove(k);
            } else {
                p[k] = v.clone();
            }
        }
        assemble(&header, &p, &signature)
    };
    // (case, token, whether it needs the Auth server's opinion)
    let cases: Vec<(&str, String, bool)> = vec![
        (
            "another user's id",
            tampered(json!({"sub": "00000000-0000-4000-8000-000000000000"})),
            false,
        ),
        (
            "admin role",
            tampered(json!({"role": "service_role"})),
            false,
        ),
        (
            "later exp",
            tampered(json!({"exp": 4_102_444_800_i64})),
            false,
        ),
        (
            "other issuer",
            tampered(json!({"iss": "https://evil.example/auth/v1"})),
            false,
        ),
        ("other audience", tampered(json!({"aud": "anon"})), false),
        ("no exp", tampered(json!({"exp": null})), false),
        ("no sub", tampered(json!({"sub": null})), false),
        (
            "alg none",
            assemble(&json!({"alg": "none", "typ": "JWT"}), &payload, ""),
            false,
        ),
        (
            "HS256 header",
            assemble(
                &json!({"alg": "HS256", "kid": header["kid"], "typ": "JWT"}),
                &payload,
                &signature,
            ),
            true,
        ),
        (
            "another key under the published kid",
            assemble(&header, &foreign_payload, &foreign_signature),
            false,
        ),
        ("a kid not in the JWKS", unknown_kid, true),
        ("another server's token", foreign.clone(), false),
        ("not a JWT", "not-a-jwt".to_owned(), false),
    ];
    let plain = app(SupabaseLayer::new(auth.clone()));
    let with_login = app(SupabaseLayer::new(auth.clone()).login_path("/sign-in"));
    for (name, forged, server_check) in cases {
        let cookie = session_cookie(&forged, &rt);
        emu.clear_requests();

        let res = send(&plain, get_with("/dashboard", &[&cookie])).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{name}");
        assert!(res.set_cookies().is_empty(), "{name}: cookies kept");
        assert_eq!(res.cache_headers(), no_cache_headers(), "{name}");

        let res = send(&with_login, get_with("/dashboard?tab=1", &[&cookie])).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{name}");
        assert_eq!(
            res.header("location"),
            ["/sign-in?next=%2Fdashboard%3Ftab%3D1"],
            "{name}"
        );

        let res = send(&plain, get_with("/page", &[&cookie])).await;
        assert_eq!(res.status, StatusCode::OK, "{name}");
        assert_eq!(
            res.json(),
            json!({"cookie": [cookie], "outcome": "failed", "client": true, "email": null}),
            "{name}"
        );
        assert_eq!(count(&emu, "/token"), 0, "{name}: no refresh attempted");
        let user_checks = count(&emu, "/user");
        assert_eq!(user_checks, if server_check { 3 } else { 0 }, "{name}");
    }
    // Control: the real session.
    let res = send(
        &plain,
        get_with("/dashboard", &[&session_cookie(&token, &rt)]),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body, format!("dashboard of {EMAIL}"));
}

#[tokio::test]
async fn an_expired_token_in_a_session_that_claims_to_be_fresh_is_refused() {
    let emu = emulator().await;
    let real = stored_session(&signed_in_cookies(&auth(&emu)).await);
    // The proxy's clock is past the token's exp; the cookie says it expires tomorrow.
    let late = auth_ahead(&emu, 3700);
    let cookie = session_cookie(
        real["access_token"].as_str().unwrap(),
        real["refresh_token"].as_str().unwrap(),
    );
    emu.clear_requests();
    let res = send(
        &app(SupabaseLayer::new(late)),
        get_with("/page", &[&cookie]),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json()["outcome"], "failed");
    assert!(res.set_cookies().is_empty());
    assert!(emu.requests().is_empty());
}

#[tokio::test]
async fn auth_outages_keep_cookies_and_never_become_a_5xx() {
    let emu = emulator().await;
    let fresh = signed_in_cookies(&auth(&emu)).await;
    let fresh_header = header_of(&fresh);
    let healthy = app(SupabaseLayer::new(auth(&emu)));
    // Warm the JWKS cache: after that, a valid token needs no Auth server at all.
    assert_eq!(
        send(&healthy, get_with("/dashboard", &[&fresh_header]))
            .await
            .status,
        StatusCode::OK
    );
    // Its clock is kept, to move past the pause of refreshes a failure starts.
    let clock = clock_ahead(&emu, 3700);
    let expired_app = app(SupabaseLayer::new(
        builder(&emu).clock(clock.clone()).build().unwrap(),
    ));
    // Its JWKS cache too, with a session signed in at its (later) time.
    let later = signed_in_cookies(&auth(&emu)).await;
    assert_eq!(
        send(&expired_app, get_with("/dashboard", &[&header_of(&later)]))
            .await
            .status,
        StatusCode::OK
    );
    let outages: Vec<(&str, Outage)> = vec![
        ("503", |e| e.faults().fail_all(503).unwrap()),
        ("429", |e| e.faults().fail_all(429).unwrap()),
        ("dropped connections", |e| e.faults().drop_connections(true)),
        ("slow", |e| e.faults().set_latency(Duration::from_secs(5))),
        // Last: a refresh that gets through is shared with later requests holding
        // the same refresh token (the single-flight reuse window).
        ("500 on half", |e| e.faults().fail_ratio(0.5, 500).unwrap()),
    ];
    for (name, apply) in outages {
        emu.faults().clear();
        apply(&emu);
        emu.faults().jwks_outage(true);
        // Past the pause the previous outage started: this one's refresh reaches Auth.
        clock.advance_millis(31_000);

        // Still valid: served as usual, nothing written.
        let res = send(&healthy, get_with("/dashboard", &[&fresh_header])).await;
        assert_eq!(res.status, StatusCode::OK, "{name}");
        assert!(res.set_cookies().is_empty(), "{name}");

        // Expired: treated as signed out within the retry budget; cookies kept.
        if name == "500 on half" {
            // Retries may well get through; either way nothing is deleted.
            let res = send(&expired_app, get_with("/page", &[&fresh_header])).await;
            assert_eq!(res.status, StatusCode::OK);
            assert!(
                res.set_cookies().iter().all(|l| !l.contains("Max-Age=0")),
                "{:?}",
                res.set_cookies()
            );
            continue;
        }
        let started = Instant::now();
        let res = send(&expired_app, get_with("/page", &[&fresh_header])).await;
        assert!(
            started.elapsed() < BUDGET + SLACK,
            "{name}: {:?}",
            started.elapsed()
        );
        assert_eq!(res.status, StatusCode::OK, "{name}");
        assert_eq!(res.json()["outcome"], "failed_transient", "{name}");
        assert!(res.set_cookies().is_empty(), "{name}: cookies kept");
        let res = send(&expired_app, get_with("/dashboard", &[&fresh_header])).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{name}");
        assert!(res.set_cookies().is_empty(), "{name}");
    }
    // Auth is back: the first request after the pause refreshes and sets the new
    // session.
    emu.faults().clear();
    clock.advance_millis(31_000);
    let res = send(&expired_app, get_with("/dashboard", &[&fresh_header])).await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    let lines = res.set_cookies();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with(&format!("{SESSION}=base64-")));
    assert!(lines[0].ends_with(ATTRIBUTES));
    assert_eq!(res.cache_headers(), no_store());
}

#[tokio::test]
async fn ten_thousand_chunk_like_cookies_cost_linear_time() {
    let emu = emulator().await;
    let app = app(SupabaseLayer::new(auth(&emu)));
    let chunks: String = (0..10_000).map(|i| format!("; {SESSION}.{i}=x")).collect();
    let cookie = format!("theme=dark{chunks}");
    let started = Instant::now();
    let res = send(&app, get_with("/page", &[&cookie])).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json()["outcome"], "no_session");
    assert!(res.set_cookies().is_empty());
    assert!(emu.requests().is_empty());
}

#[tokio::test]
async fn a_non_session_beside_ten_thousand_chunks_is_deleted_with_all_of_them() {
    let emu = emulator().await;
    let app = app(SupabaseLayer::new(auth(&emu)));
    let chunks: String = (0..10_000).map(|i| format!("; {SESSION}.{i}=x")).collect();
    let cookie = format!(
        "{SESSION}={}; theme=dark{chunks}",
        to_base64_value("{\"x\":1}")
    );
    let started = Instant::now();
    let res = send(&app, get_with("/page", &[&cookie])).await;
    let took = started.elapsed();
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(
        res.json(),
        json!({"cookie": ["theme=dark"], "outcome": "no_session", "client": true, "email": null})
    );
    let lines = res.set_cookies();
    assert_eq!(lines.len(), 10_001);
    assert!(lines.iter().all(|l| l.contains("; Max-Age=0;")));
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[tokio::test]
async fn over_real_http_the_server_refuses_headers_over_its_limit() {
    let emu = emulator().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = app(SupabaseLayer::new(auth(&emu)));
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let http = reqwest::Client::new();

    // 1 MiB of cookies: hyper answers 431 before the proxy runs.
    let huge = format!("{SESSION}=base64-{}", "e".repeat(1 << 20));
    let res = http
        .get(format!("{url}/page"))
        .header("cookie", huge)
        .send()
        .await;
    match res {
        Ok(res) => assert_eq!(res.status(), 431),
        // hyper may also close the connection while the client is still writing.
        Err(e) => assert!(e.is_request() || e.is_connect() || e.is_body(), "{e}"),
    }

    // 10,000 chunk-like cookies (about 250 KB) fit: no session, nothing written.
    let chunks: Vec<String> = (0..10_000)
        .map(|i| format!("{SESSION}.{i}=base64-eyJhIjox"))
        .collect();
    let res = http
        .get(format!("{url}/page"))
        .header("cookie", chunks.join("; "))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("set-cookie").is_none());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["outcome"], "no_session");
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_unknown_kids_through_the_proxy_is_bounded() {
    let emu = emulator().await;
    let concurrency = 2;
    let auth = builder(&emu)
        .user_fallback_concurrency(concurrency)
        .build()
        .unwrap();
    let app = app(SupabaseLayer::new(auth));
    let other = emulator_with_user(EmulatorConfig::default()).await;
    // Forged sessions whose tokens were signed by another server's key, under its
    // (unknown here) kid, with our issuer.
    let mut cookies = Vec::new();
    for _ in 0..10 {
        let s = stored_session(&signed_in_cookies(&support::auth(&other)).await);
        let (header, mut payload, signature) = parts(s["access_token"].as_str().unwrap());
        payload["iss"] = json!(emu.auth_url());
        cookies.push(session_cookie(
            &assemble(&header, &payload, &signature),
            s["refresh_token"].as_str().unwrap(),
        ));
    }
    emu.clear_requests();
    emu.faults().set_latency(Duration::from_millis(100));
    emu.faults().only_paths(&["/user"]);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let (app, cookie) = (app.clone(), cookies[i % cookies.len()].clone());
        tasks.push(tokio::spawn(async move {
            send(&app, get_with("/dashboard", &[&cookie])).await
        }));
    }
    for t in tasks {
        let res = t.await.unwrap();
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        assert!(res.set_cookies().is_empty());
    }
    let user_checks = count(&emu, "/user");
    // `concurrency` slots, each 100+ ms, for as long as the last waiter may wait.
    let bound = concurrency * (BUDGET.as_millis() as usize / 100 + 2);
    assert!(user_checks <= bound, "{user_checks} > {bound}");
    assert_eq!(count(&emu, "/.well-known/jwks.json"), 1);
    assert!(started.elapsed() < Duration::from_secs(5));
    eprintln!(
        "200 forged requests through the proxy: {user_checks} /user checks, 1 JWKS fetch, in {:?}",
        started.elapsed()
    );
}

/// Another emulator with the usual user, for tokens this project did not sign.
async fn emulator_with_user(config: EmulatorConfig) -> supabase_auth_emulator::Emulator {
    let emu = config.start().await.unwrap();
    emu.create_user(EMAIL, PASSWORD).await.unwrap();
    emu
}
