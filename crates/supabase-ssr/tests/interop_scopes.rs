//! `clear_auth_cookies_at_scopes` against the real `clearAuthCookiesAtScopes` of
//! `@supabase/ssr` 0.12.7 (pinned in `interop/js`, run by `interop/js/ssr/clear-scopes.mjs`):
//! for the same request cookies and scopes, the same `setAll` calls, the same cookies in
//! the same order, and the same `Set-Cookie` bytes.
#![allow(clippy::unwrap_used)]

mod interop;

use std::sync::Arc;

use interop::run_node_script;
use serde_json::{Value, json};
use supabase_ssr::adapter::codec::cookie_header_value;
use supabase_ssr::cookies::{CookieJar, CookieOptions, SameSite, clear_auth_cookies_at_scopes};

const KEY: &str = "sb-abcdefghijklmnop-auth-token";

/// A scope as the JS helper takes it (`Partial<CookieOptions>`), and as Rust builds it
/// (the defaults with the same fields changed).
struct Scope {
    js: Value,
    rust: CookieOptions,
}

fn scope(change: impl Fn(&mut CookieOptions), js: Value) -> Scope {
    let mut rust = CookieOptions::default_set();
    change(&mut rust);
    Scope { js, rust }
}

fn scopes() -> Vec<Scope> {
    vec![
        scope(
            |o| o.domain = Some(".old.example.com".into()),
            json!({"domain": ".old.example.com"}),
        ),
        scope(|o| o.path = Some("/app".into()), json!({"path": "/app"})),
        scope(
            |o| {
                o.domain = Some("example.com".into());
                o.path = Some("/".into());
                o.secure = true;
                o.http_only = true;
                o.same_site = Some(SameSite::Strict);
            },
            json!({"domain": "example.com", "path": "/", "secure": true, "httpOnly": true, "sameSite": "strict"}),
        ),
        scope(
            |o| o.same_site = Some(SameSite::None),
            json!({"sameSite": "none"}),
        ),
    ]
}

fn request_cookies() -> Vec<Vec<(&'static str, &'static str)>> {
    vec![
        // One unchunked session beside other cookies.
        vec![
            ("theme", "dark"),
            (KEY, "base64-eyJhIjoxfQ"),
            ("sb-other-auth-token", "x"),
        ],
        // Chunks, the code verifier, a name that only looks related.
        vec![
            ("sb-abcdefghijklmnop-auth-token.0", "base64-a"),
            ("sb-abcdefghijklmnop-auth-token.1", "b"),
            ("sb-abcdefghijklmnop-auth-token-code-verifier", "base64-v"),
            ("sb-abcdefghijklmnop-auth-token.x", "y"),
            ("lang", "en"),
        ],
        // No session cookie at all: no call.
        vec![("theme", "dark")],
        vec![],
    ]
}

/// What Rust hands to `set_all`: per call, the Set-Cookie lines and the header names.
fn rust_calls(cookies: &[(&str, &str)], scopes: &[CookieOptions]) -> Vec<(Vec<String>, usize)> {
    let header = cookie_header_value(
        &cookies
            .iter()
            .map(|(n, v)| supabase_ssr::cookies::Cookie::new(*n, *v))
            .collect::<Vec<_>>(),
    );
    let jar = Arc::new(CookieJar::from_cookie_header(&header));
    clear_auth_cookies_at_scopes(jar.as_ref(), KEY, scopes).unwrap();
    jar.set_all_calls()
        .iter()
        .map(|call| {
            (
                call.cookies.iter().map(|c| c.to_header_value()).collect(),
                call.headers.len(),
            )
        })
        .collect()
}

#[test]
fn the_same_deletions_as_clear_auth_cookies_at_scopes() {
    let all_scopes = scopes();
    // Every scope alone, all of them together, and none.
    let mut scope_sets: Vec<Vec<&Scope>> = all_scopes.iter().map(|s| vec![s]).collect();
    scope_sets.push(all_scopes.iter().collect());
    scope_sets.push(vec![]);

    let mut scenarios = Vec::new();
    let mut expected = Vec::new();
    for cookies in request_cookies() {
        for set in &scope_sets {
            scenarios.push(json!({
                "cookies": cookies,
                "storageKey": KEY,
                "scopes": set.iter().map(|s| s.js.clone()).collect::<Vec<_>>(),
            }));
            let rust_scopes: Vec<CookieOptions> = set.iter().map(|s| s.rust.clone()).collect();
            expected.push(rust_calls(&cookies, &rust_scopes));
        }
    }
    let results = run_node_script("ssr/clear-scopes.mjs", &Value::Array(scenarios.clone()));
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), expected.len());
    let mut calls_seen = 0;
    for ((scenario, result), ours) in scenarios.iter().zip(results).zip(&expected) {
        let theirs: Vec<(Vec<String>, usize)> = result["setAll"]
            .as_array()
            .unwrap()
            .iter()
            .map(|call| {
                (
                    call["cookies"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|c| c["header"].as_str().unwrap().to_owned())
                        .collect(),
                    call["headers"].as_object().unwrap().len(),
                )
            })
            .collect();
        assert_eq!(&theirs, ours, "{scenario}");
        calls_seen += ours.len();
    }
    // The scenarios with a session cookie and at least one scope made one call each.
    assert_eq!(calls_seen, 2 * 5);
    // One exact line, so the comparison above is known to compare real bytes.
    assert_eq!(
        expected[0][0].0,
        [
            "sb-abcdefghijklmnop-auth-token=; Max-Age=0; Domain=.old.example.com; Path=/; SameSite=Lax"
        ]
    );
}
