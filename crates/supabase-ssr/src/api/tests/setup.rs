//! Building a client: options, extra headers and argument checks.

use std::time::Duration;

use super::support::{Reply, TestServer};
use super::*;

#[tokio::test]
async fn extra_headers_replace_defaults_and_keep_an_explicit_api_version() {
    let server = TestServer::start().await;
    server.push(Reply::json(200, USER));
    let options = ApiOptions {
        client_info: "supabase-ssr-rs/test createServerClient".into(),
        extra_headers: vec![
            ("X-Supabase-Api-Version".into(), "2025-06-01".into()),
            ("x-custom".into(), "c".into()),
        ],
        ..options()
    };
    api_with(&server, options).get_user(JWT).await.unwrap();
    let request = server.single_request();
    assert_eq!(request.header("x-supabase-api-version"), Some("2025-06-01"));
    assert_eq!(request.header("x-custom"), Some("c"));
    assert_eq!(
        request.header("x-client-info"),
        Some("supabase-ssr-rs/test createServerClient")
    );
    assert_eq!(
        request.header("authorization"),
        Some("Bearer user.access.token")
    );
}

#[tokio::test]
async fn new_rejects_bad_urls_and_header_values() {
    let http = http();
    for url in ["", "not a url", "ftp://h/auth/v1", "http://h/auth/v1?x=1"] {
        let err = AuthApi::new(http.clone(), url, KEY, ApiOptions::default()).unwrap_err();
        assert!(err.to_string().starts_with("invalid input"), "{url}: {err}");
    }
    let err = AuthApi::new(
        http.clone(),
        "http://h/auth/v1",
        "bad\nkey",
        ApiOptions::default(),
    )
    .unwrap_err();
    assert!(!err.to_string().contains("bad"), "{err}");
    let api = AuthApi::new(http, "http://h/auth/v1/", KEY, ApiOptions::default()).unwrap();
    assert_eq!(api.auth_url(), "http://h/auth/v1");
    assert!(!format!("{api:?}").contains(KEY));
}

#[tokio::test]
async fn default_options_match_the_brief() {
    let options = ApiOptions::default();
    assert_eq!(options.retry_budget, Duration::from_secs(3));
    assert_eq!(options.request_timeout, Duration::from_secs(10));
    assert_eq!(options.client_info, CLIENT_INFO);
    assert!(options.extra_headers.is_empty());
}
