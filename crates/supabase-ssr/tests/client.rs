//! The server client against the local Auth emulator over real HTTP: sessions in
//! cookies, refresh, verified claims, users and sign-out.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use supabase_auth_emulator::EmulatorConfig;
use supabase_ssr::adapter::codec::{decode_value, to_base64_value};
use supabase_ssr::clock::{Clock, ManualClock, SystemClock};
use supabase_ssr::cookies::{CACHE_HEADERS, CookieJar};
use supabase_ssr::{SignOutScope, SupabaseAuth};

/// Moves the emulator's clock `secs` ahead and returns a client clock at the same time.
fn clock_ahead(emu: &supabase_auth_emulator::Emulator, secs: u64) -> ManualClock {
    emu.advance_clock(Duration::from_secs(secs));
    ManualClock::new(SystemClock.now_millis() + i64::try_from(secs).unwrap() * 1000)
}

fn cache_headers() -> Vec<(String, String)> {
    CACHE_HEADERS
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test]
async fn sign_in_writes_one_session_cookie_with_the_cache_headers() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let jar = Arc::new(CookieJar::default());
    let client = auth.server_client(jar.clone());
    let session = client.sign_in_with_password(EMAIL, PASSWORD).await.unwrap();

    let calls = jar.set_all_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].headers, cache_headers());
    assert_eq!(calls[0].cookies.len(), 1);
    let cookie = &calls[0].cookies[0];
    assert_eq!(cookie.name, "sb-127-auth-token");
    assert_eq!(cookie.value, to_base64_value(session.as_json()));
    assert_eq!(
        jar.set_cookie_headers(),
        vec![format!(
            "sb-127-auth-token={}; Max-Age=34560000; Path=/; SameSite=Lax",
            cookie.value
        )]
    );
    let stored: serde_json::Value =
        serde_json::from_str(&decode_value(&cookie.value).unwrap()).unwrap();
    assert_eq!(stored["user"]["email"], EMAIL);
    assert_eq!(stored["token_type"], "bearer");
    assert!(stored["expires_at"].as_i64().unwrap() > 0);

    // The same client reads its own write, and a later request reads the cookie.
    let again = client.get_session().await.unwrap().unwrap();
    assert_eq!(again.access_token(), session.access_token());
    let next = auth.server_client(CookieJar::new(jar.cookies()));
    assert_eq!(
        next.get_session().await.unwrap().unwrap().refresh_token(),
        session.refresh_token()
    );
}

#[tokio::test]
async fn wrong_password_is_a_typed_error_and_writes_nothing() {
    let emu = emulator().await;
    let jar = Arc::new(CookieJar::default());
    let err = auth(&emu)
        .server_client(jar.clone())
        .sign_in_with_password(EMAIL, "nope")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.code(), Some("invalid_credentials"));
    assert_eq!(err.message(), "Invalid login credentials");
    assert!(!err.is_retryable());
    assert!(jar.set_all_calls().is_empty());
}

#[tokio::test]
async fn claims_are_verified_locally_and_the_jwks_is_fetched_once() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let cookies = signed_in_cookies(&auth).await;
    emu.clear_requests();
    for _ in 0..3 {
        let jar = Arc::new(CookieJar::new(cookies.clone()));
        let claims = auth
            .server_client(jar.clone())
            .get_claims()
            .await
            .unwrap()
            .unwrap();
        assert_eq!(claims.email.as_deref(), Some(EMAIL));
        assert_eq!(claims.role.as_deref(), Some("authenticated"));
        assert_eq!(claims.aal.as_deref(), Some("aal1"));
        assert_eq!(
            claims.iss.as_deref(),
            Some(format!("{}/auth/v1", emu.url()).as_str())
        );
        assert!(claims.session_id.is_some());
        assert!(
            jar.set_all_calls().is_empty(),
            "a fresh session is not rewritten"
        );
    }
    assert_eq!(
        count_requests(&emu, "GET", "/.well-known/jwks.json", None),
        1
    );
    assert_eq!(count_requests(&emu, "GET", "/user", None), 0);
    assert_eq!(emu.requests().len(), 1);
}

#[tokio::test]
async fn no_cookies_means_no_session_and_no_request() {
    let emu = emulator().await;
    let client = auth(&emu).server_client(CookieJar::default());
    assert!(client.get_session().await.unwrap().is_none());
    assert!(client.get_claims().await.unwrap().is_none());
    assert!(client.get_user().await.unwrap().is_none());
    assert!(emu.requests().is_empty());
}

#[tokio::test]
async fn an_expiring_session_is_refreshed_and_rewritten() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let cookies = signed_in_cookies(&auth).await;
    let old_rt = auth
        .server_client(CookieJar::new(cookies.clone()))
        .get_session()
        .await
        .unwrap()
        .unwrap()
        .refresh_token()
        .to_owned();
    emu.clear_requests();
    // 50 s before expiry, inside the 90 s margin.
    let eager = builder(&emu)
        .clock(clock_ahead(&emu, 3550))
        .build()
        .unwrap();
    let jar = Arc::new(CookieJar::new(cookies));
    let client = eager.server_client(jar.clone());
    let claims = client.get_claims().await.unwrap().unwrap();
    assert_eq!(claims.email.as_deref(), Some(EMAIL));
    assert_eq!(
        count_requests(&emu, "POST", "/token", Some("grant_type=refresh_token")),
        1
    );
    let calls = jar.set_all_calls();
    assert_eq!(calls.len(), 1, "one write for the refreshed session");
    assert_eq!(calls[0].headers, cache_headers());
    let new = auth
        .server_client(CookieJar::new(jar.cookies()))
        .get_session()
        .await
        .unwrap()
        .unwrap();
    assert_ne!(new.refresh_token(), old_rt);
    assert_eq!(calls[0].cookies[0].value, to_base64_value(new.as_json()));
}

#[tokio::test]
async fn concurrent_requests_share_one_refresh_and_late_ones_get_the_rotated_session() {
    let emu = emulator().await;
    let auth = builder(&emu)
        .refresh_margin(Duration::from_secs(7200))
        .build()
        .unwrap();
    let cookies = signed_in_cookies(&auth).await;
    emu.clear_requests();
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let (auth, cookies) = (auth.clone(), cookies.clone());
        tasks.push(tokio::spawn(async move {
            let jar = Arc::new(CookieJar::new(cookies));
            let session = auth
                .server_client(jar.clone())
                .get_session()
                .await
                .unwrap()
                .unwrap();
            (session.refresh_token().to_owned(), jar.cookie_header())
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    assert_eq!(
        count_requests(&emu, "POST", "/token", Some("grant_type=refresh_token")),
        1
    );
    assert!(
        results.iter().all(|r| r == &results[0]),
        "every response carries the same session"
    );

    // A request arriving later with the old cookies, inside the reuse window.
    let late = Arc::new(CookieJar::new(cookies.clone()));
    let session = auth
        .server_client(late.clone())
        .get_session()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session.refresh_token(), results[0].0);
    assert_eq!(late.cookie_header(), results[0].1);
    assert_eq!(
        count_requests(&emu, "POST", "/token", Some("grant_type=refresh_token")),
        1
    );
}

#[tokio::test]
async fn a_rejected_refresh_token_deletes_an_expired_session() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let session_json = r#"{"access_token":"a.b.c","token_type":"bearer","expires_in":3600,"expires_at":1000,"refresh_token":"zzzzzzzzzzzz","user":{"id":"x"}}"#;
    let jar = Arc::new(CookieJar::new(vec![
        supabase_ssr::cookies::Cookie::new("sb-127-auth-token", to_base64_value(session_json)),
        supabase_ssr::cookies::Cookie::new(
            "sb-127-auth-token-code-verifier",
            to_base64_value("\"v\""),
        ),
        supabase_ssr::cookies::Cookie::new("theme", "dark"),
    ]));
    let err = auth
        .server_client(jar.clone())
        .get_claims()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("refresh_token_not_found"));
    assert_eq!(err.status(), Some(400));
    assert_eq!(
        writes(&jar),
        vec![vec![
            ("sb-127-auth-token".to_owned(), Some(0)),
            ("sb-127-auth-token-code-verifier".to_owned(), Some(0)),
        ]]
    );
    assert_eq!(jar.cookie_header(), "theme=dark");
}

#[tokio::test]
async fn an_unreachable_auth_server_never_deletes_cookies() {
    // A port that was just free: connections are refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let auth = SupabaseAuth::builder(format!("http://127.0.0.1:{port}"), "key")
        .retry_budget(Duration::from_millis(500))
        .build()
        .unwrap();
    let session_json = r#"{"access_token":"a.b.c","token_type":"bearer","expires_in":3600,"expires_at":1000,"refresh_token":"aaaaaaaaaaaa"}"#;
    let jar = Arc::new(CookieJar::new(vec![supabase_ssr::cookies::Cookie::new(
        "sb-127-auth-token",
        to_base64_value(session_json),
    )]));
    let started = std::time::Instant::now();
    let err = auth
        .server_client(jar.clone())
        .get_claims()
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(err.is_transient());
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert!(jar.set_all_calls().is_empty());
}

#[tokio::test]
async fn get_user_asks_the_server_and_a_global_sign_out_ends_other_requests() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let cookies = signed_in_cookies(&auth).await;
    let user = auth
        .server_client(CookieJar::new(cookies.clone()))
        .get_user()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.email(), Some(EMAIL));
    assert_eq!(count_requests(&emu, "GET", "/user", None), 1);

    let jar = Arc::new(CookieJar::new(cookies.clone()));
    auth.server_client(jar.clone())
        .sign_out(SignOutScope::Global)
        .await
        .unwrap();
    assert_eq!(
        writes(&jar),
        vec![vec![("sb-127-auth-token".to_owned(), Some(0))]]
    );
    assert_eq!(
        count_requests(&emu, "POST", "/logout", Some("scope=global")),
        1
    );

    // Another request still holding the old cookies: the server no longer knows the
    // session, so the cookies go.
    let stale = Arc::new(CookieJar::new(cookies));
    let err = auth
        .server_client(stale.clone())
        .get_user()
        .await
        .unwrap_err();
    assert!(err.is_session_missing(), "{err}");
    assert_eq!(err.code(), Some("session_not_found"));
    assert_eq!(
        writes(&stale),
        vec![vec![("sb-127-auth-token".to_owned(), Some(0))]]
    );
}

#[tokio::test]
async fn sign_out_others_keeps_this_session() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let mine = signed_in_cookies(&auth).await;
    let other = signed_in_cookies(&auth).await;
    let jar = Arc::new(CookieJar::new(mine.clone()));
    auth.server_client(jar.clone())
        .sign_out(SignOutScope::Others)
        .await
        .unwrap();
    assert!(jar.set_all_calls().is_empty());
    assert!(
        auth.server_client(CookieJar::new(mine))
            .get_user()
            .await
            .unwrap()
            .is_some()
    );
    let err = auth
        .server_client(CookieJar::new(other))
        .get_user()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("session_not_found"));
}

#[tokio::test]
async fn sign_out_local_deletes_cookies_before_telling_the_server() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let cookies = signed_in_cookies(&auth).await;
    let jar = Arc::new(CookieJar::new(cookies.clone()));
    auth.server_client(jar.clone())
        .sign_out(SignOutScope::Local)
        .await
        .unwrap();
    assert_eq!(
        writes(&jar),
        vec![vec![("sb-127-auth-token".to_owned(), Some(0))]]
    );
    assert_eq!(
        count_requests(&emu, "POST", "/logout", Some("scope=local")),
        1
    );
    let err = auth
        .server_client(CookieJar::new(cookies))
        .get_user()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("session_not_found"));
}

#[tokio::test]
async fn update_user_rewrites_the_stored_user() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let jar = Arc::new(CookieJar::new(signed_in_cookies(&auth).await));
    let client = auth.server_client(jar.clone());
    let mut attrs = serde_json::Map::new();
    attrs.insert(
        "data".into(),
        serde_json::json!({"display_name": "Ada Lovelace ✓"}),
    );
    let user = client.update_user(attrs).await.unwrap();
    assert_eq!(
        user.user_metadata().unwrap()["display_name"],
        "Ada Lovelace ✓"
    );
    let stored = client.get_session().await.unwrap().unwrap().user().unwrap();
    assert_eq!(
        stored.user_metadata().unwrap()["display_name"],
        "Ada Lovelace ✓"
    );
    assert_eq!(jar.set_all_calls().len(), 1);
}

#[tokio::test]
async fn a_failing_set_all_does_not_stop_the_request() {
    let emu = emulator().await;
    let cookies = signed_in_cookies(&auth(&emu)).await;
    // 50 s before the session expires, on both clocks.
    let clock = clock_ahead(&emu, 3550);
    let auth = builder(&emu).clock(clock).build().unwrap();
    let old_rt = common::stored_refresh_token(&cookies);
    let client = auth.server_client(ReadOnlyCookies(cookies));
    let claims = client.get_claims().await.unwrap().unwrap();
    assert_eq!(claims.email.as_deref(), Some(EMAIL));
    // The refreshed session is what the rest of this request sees: no second refresh.
    let session = client.get_session().await.unwrap().unwrap();
    assert_ne!(session.refresh_token(), old_rt);
    assert_eq!(
        count_requests(&emu, "POST", "/token", Some("grant_type=refresh_token")),
        1
    );
}

#[tokio::test]
async fn hs256_projects_fall_back_to_the_auth_server() {
    let emu = emulator_with(
        EmulatorConfig::default().signing_alg(supabase_auth_emulator::SigningAlg::Hs256),
    )
    .await;
    let auth = auth(&emu);
    let cookies = signed_in_cookies(&auth).await;
    emu.clear_requests();
    let claims = auth
        .server_client(CookieJar::new(cookies))
        .get_claims()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claims.email.as_deref(), Some(EMAIL));
    assert_eq!(count_requests(&emu, "GET", "/user", None), 1);
}

#[tokio::test]
async fn rotated_signing_keys_are_picked_up_with_one_jwks_refetch() {
    let emu = emulator().await;
    let clock = ManualClock::new(SystemClock.now_millis());
    let auth = builder(&emu).clock(clock.clone()).build().unwrap();
    let before = signed_in_cookies(&auth).await;
    assert!(
        auth.server_client(CookieJar::new(before))
            .get_claims()
            .await
            .unwrap()
            .is_some()
    );
    emu.rotate_signing_key(supabase_auth_emulator::SigningAlg::Es256)
        .unwrap();
    let after = signed_in_cookies(&auth).await;
    emu.clear_requests();

    // Within the refetch cooldown of the first fetch, the new kid is checked by the
    // Auth server instead.
    let claims = auth
        .server_client(CookieJar::new(after.clone()))
        .get_claims()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claims.email.as_deref(), Some(EMAIL));
    assert_eq!(
        count_requests(&emu, "GET", "/.well-known/jwks.json", None),
        0
    );
    assert_eq!(count_requests(&emu, "GET", "/user", None), 1);

    // After it, one refetch serves every later request.
    clock.advance_millis(31_000);
    emu.clear_requests();
    for _ in 0..3 {
        let claims = auth
            .server_client(CookieJar::new(after.clone()))
            .get_claims()
            .await
            .unwrap()
            .unwrap();
        assert_eq!(claims.email.as_deref(), Some(EMAIL));
    }
    assert_eq!(
        count_requests(&emu, "GET", "/.well-known/jwks.json", None),
        1
    );
    assert_eq!(count_requests(&emu, "GET", "/user", None), 0);
}

/// `ProxyRequest::session_at_hand`: what a proxy can answer without an `await`, and only
/// that; everything else is left to `check_session`.
#[tokio::test]
async fn a_proxy_answers_at_once_only_for_no_session_or_a_session_verified_before() {
    use supabase_ssr::adapter::ProxyRequest;

    let emu = emulator().await;
    let header = CookieJar::new(signed_in_cookies(&auth(&emu)).await).cookie_header();
    let proxy =
        |auth: &SupabaseAuth, header: &str| ProxyRequest::new(auth, [header.as_bytes().to_vec()]);
    // A process of its own, on a clock the test moves.
    let clock = ManualClock::new(SystemClock.now_millis());
    let auth = builder(&emu).clock(clock.clone()).build().unwrap();

    // No session: answered at once, nothing written.
    let none = proxy(&auth, "theme=dark");
    assert_eq!(none.session_at_hand(), Some(None));
    assert!(none.cookies().writes().is_empty());

    // A session this process never verified: the check has work to do.
    assert_eq!(proxy(&auth, &header).session_at_hand(), None);
    let claims = proxy(&auth, &header)
        .check_session()
        .await
        .unwrap()
        .unwrap();
    // Verified once: the browser's next request is answered at once, with the same
    // claims, and nothing is asked of the Auth server.
    emu.clear_requests();
    let again = proxy(&auth, &header).session_at_hand().unwrap().unwrap();
    assert_eq!(again.sub, claims.sub);
    assert!(emu.requests().is_empty());

    // 50 s before expiry, inside the 90 s refresh margin: a refresh to do, so no answer
    // at once, and nothing written by asking.
    clock.advance_millis(3_550_000);
    let expiring = proxy(&auth, &header);
    assert_eq!(expiring.session_at_hand(), None);
    assert!(expiring.cookies().writes().is_empty());

    // JSON that is not a session: answered at once as no session, and deleted.
    let junk = proxy(&auth, &format!("{}=base64-eyJhIjoxfQ", auth.storage_key()));
    assert_eq!(junk.session_at_hand(), Some(None));
    let writes = junk.cookies().writes();
    assert_eq!(writes.len(), 1);
    assert_eq!(
        (writes[0].name.as_str(), writes[0].value.as_str()),
        (auth.storage_key(), "")
    );
}
