//! Client tests over real HTTP against the loopback server of `tests/support`.
//!
//! - `requests`: the exact request of every method and how answers are read;
//! - `errors`: every error status and body shape of the reference tables;
//! - `retry`: the refresh retry budget;
//! - `setup`: options, extra headers and argument checks.
#![allow(clippy::unwrap_used)]

#[path = "../../../tests/support/mod.rs"]
mod support;

mod errors;
mod requests;
mod retry;
mod setup;

use std::time::Duration;

use self::support::{Recorded, TestServer};
use super::{ApiOptions, AuthApi};

/// The API key the tests use.
const KEY: &str = "test-anon-key";
/// A user access token the tests use.
const JWT: &str = "user.access.token";
/// Secrets that must never appear in an error.
const PASSWORD: &str = "hunter2-password-SECRET";
const REFRESH_TOKEN: &str = "rt-SECRET-v2rg2h8sx9k2";
/// The client info sent by default.
const CLIENT_INFO: &str = concat!("supabase-ssr-rs/", env!("CARGO_PKG_VERSION"));

/// A token answer with a user, in the server's key order.
const SESSION: &str = r#"{"access_token":"at","token_type":"bearer","expires_in":3600,"expires_at":1700003600,"refresh_token":"new-rt","user":{"id":"u1","aud":"authenticated","email":"a@example.com"}}"#;
/// A bare user answer.
const USER: &str =
    r#"{"id":"u1","aud":"authenticated","email":"a@example.com","user_metadata":{}}"#;

fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// Options with timeouts short enough for tests.
fn options() -> ApiOptions {
    ApiOptions {
        retry_budget: Duration::from_millis(1000),
        request_timeout: Duration::from_millis(1000),
        ..ApiOptions::default()
    }
}

fn api(server: &TestServer) -> AuthApi {
    api_with(server, options())
}

fn api_with(server: &TestServer, options: ApiOptions) -> AuthApi {
    AuthApi::new(http(), &format!("{}/auth/v1", server.url()), KEY, options).unwrap()
}

/// Asserts the headers every request carries: `apikey`, `Authorization` (with
/// `bearer`), `X-Client-Info`, `X-Supabase-Api-Version`, and `Content-Type` exactly on
/// non-GET requests. Each appears once.
fn assert_headers(request: &Recorded, bearer: &str) {
    let authorization = format!("Bearer {bearer}");
    let expected = [
        ("apikey", Some(KEY)),
        ("authorization", Some(authorization.as_str())),
        ("x-client-info", Some(CLIENT_INFO)),
        ("x-supabase-api-version", Some("2024-01-01")),
        (
            "content-type",
            (request.method != "GET").then_some("application/json;charset=UTF-8"),
        ),
    ];
    for (name, value) in expected {
        assert_eq!(request.header(name), value, "header {name}");
        assert!(request.header_count(name) <= 1, "header {name} repeated");
    }
}

/// Asserts the method, target (path and query) and body bytes of a request.
fn assert_request(request: &Recorded, method: &str, target: &str, body: &str) {
    assert_eq!(request.method, method);
    assert_eq!(request.target, target);
    assert_eq!(request.body_text(), body);
}

/// Parses a JSON object literal.
fn object(json: &str) -> serde_json::Map<String, serde_json::Value> {
    serde_json::from_str(json).unwrap()
}

/// Asserts an error's text and debug form hide every secret a request carried.
fn assert_no_secrets(err: &crate::AuthError) {
    let texts = [err.to_string(), format!("{err:?}"), format!("{err:#?}")];
    for text in texts {
        for secret in [PASSWORD, REFRESH_TOKEN, KEY, JWT, "SECRET"] {
            assert!(!text.contains(secret), "{secret:?} leaked in {text}");
        }
    }
}
