//! Data API headers, sent with reqwest to a local server that records what arrives, and
//! the verified user of a cookie session.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::get;
use common::{EMAIL, PASSWORD, auth, emulator};
use supabase_ssr::api_auth::CredentialSource;
use supabase_ssr::cookies::CookieJar;

/// A server that records the method, path and query, and headers of every request.
async fn recorder() -> (String, Arc<Mutex<Vec<(String, HeaderMap)>>>) {
    let seen: Arc<Mutex<Vec<(String, HeaderMap)>>> = Arc::default();
    let log = seen.clone();
    let app = Router::new().fallback(get(move |uri: axum::http::Uri, headers: HeaderMap| {
        let log = log.clone();
        async move {
            log.lock().unwrap().push((uri.to_string(), headers));
            "[]"
        }
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

fn pairs(headers: &HeaderMap, names: &[&str]) -> Vec<(String, String)> {
    names
        .iter()
        .flat_map(|name| {
            headers
                .get_all(*name)
                .iter()
                .map(move |v| (name.to_string(), v.to_str().unwrap().to_owned()))
        })
        .collect()
}

#[tokio::test]
async fn data_api_requests_carry_the_key_and_the_users_verified_token_or_the_key_alone() {
    let emu = emulator().await;
    let auth = auth(&emu);
    assert_eq!(auth.rest_url(), format!("{}/rest/v1", emu.url()));

    let jar = Arc::new(CookieJar::default());
    let client = auth.server_client(jar.clone());
    let session = client.sign_in_with_password(EMAIL, PASSWORD).await.unwrap();
    let user = auth
        .server_client(Arc::new(CookieJar::new(jar.cookies())))
        .verified_user()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.access_token(), session.access_token());
    assert_eq!(user.source(), CredentialSource::Cookie);
    assert_eq!(Some(user.id()), user.claims().sub.as_deref());
    assert!(!format!("{user:?}").contains(session.access_token()));

    let (base, seen) = recorder().await;
    let http = reqwest::Client::new();
    for user in [Some(&user), None] {
        let headers = auth.data_api_headers(user);
        assert!(headers.values().all(|v| v.is_sensitive()));
        http.get(format!("{base}/rest/v1/notes?select=id,body"))
            .headers(headers)
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap();
    }
    let seen = seen.lock().unwrap();
    let key = emu.publishable_key();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].0, "/rest/v1/notes?select=id,body");
    assert_eq!(
        pairs(&seen[0].1, &["apikey", "authorization"]),
        [
            ("apikey".to_owned(), key.to_owned()),
            (
                "authorization".to_owned(),
                format!("Bearer {}", session.access_token())
            ),
        ]
    );
    assert_eq!(
        pairs(&seen[1].1, &["apikey", "authorization"]),
        [
            ("apikey".to_owned(), key.to_owned()),
            ("authorization".to_owned(), format!("Bearer {key}")),
        ]
    );
}

#[tokio::test]
async fn a_cookie_jar_without_a_session_has_no_verified_user() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let user = auth
        .server_client(Arc::new(CookieJar::default()))
        .verified_user()
        .await
        .unwrap();
    assert!(user.is_none());
    assert_eq!(emu.requests().len(), 0);
}
