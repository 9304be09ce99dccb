//! Tokens-only cookies (`cookies: { encode: "tokens-only" }` in `@supabase/ssr` 0.12.7)
//! against the pinned packages, the way the default contents are proven in
//! `interop_cookies.rs`: for sessions whose user would take one to five cookies, and one
//! whose access token alone needs two, the JS server client and the Rust one (with
//! `CookieContents::TokensOnly`) sign in with the same Auth answer and must hand the same
//! cookies to `setAll`, byte for byte; what JS writes Rust reads, with either setting;
//! what Rust writes JS reads, with either setting. Neither ever gives a user read from a
//! tokens-only cookie.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod interop;
mod support;

use std::sync::Arc;

use interop::sessions::{FLAVOURS, body_for_chunks};
use interop::{
    KEY, NOW, STORAGE_KEY as K, client_scenario, fake_jwt, jar_json, jar_of, ok, run_harness,
    session_body, set_all_calls, sign_in_step, user_json,
};
use serde_json::{Value, json};
use supabase_ssr::SupabaseAuth;
use supabase_ssr::clock::ManualClock;
use supabase_ssr::cookies::{Cookie, CookieContents, CookieEncoding, CookieJar};
use support::{Reply, TestServer};

/// One sign-in answer, and how many cookies each setting stores it in.
struct Case {
    label: String,
    body: String,
    default_cookies: usize,
    tokens_only_cookies: usize,
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (f, flavour) in FLAVOURS.iter().enumerate() {
        for chunks in [1, 3, 5] {
            cases.push(Case {
                label: format!("{flavour}, a user taking {chunks} cookie(s)"),
                body: body_for_chunks(
                    flavour,
                    CookieEncoding::Base64Url,
                    false,
                    chunks,
                    &format!("t{f}{chunks}"),
                ),
                default_cookies: chunks,
                tokens_only_cookies: 1,
            });
        }
    }
    // Custom claims make the access token itself too long for one cookie.
    let user = user_json(
        "9a7f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
        "user@example.com",
        json!({}),
    );
    let mut body = session_body(user, NOW, "claims");
    body["access_token"] = json!(fake_jwt(&json!({
        "sub": "9a7f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
        "exp": NOW / 1000 + 3600,
        "permissions": vec!["projects:read:0123456789"; 120],
    })));
    cases.push(Case {
        label: "an access token with large custom claims".into(),
        body: body.to_string(),
        default_cookies: 3,
        tokens_only_cookies: 2,
    });
    cases
}

fn auth(server_url: &str, contents: CookieContents) -> SupabaseAuth {
    SupabaseAuth::builder(server_url, KEY)
        .clock(ManualClock::new(NOW))
        .cookie_contents(contents)
        .build()
        .unwrap()
}

/// What the Rust client writes when it signs in with `body`: the jar, and each cookie as
/// (name, value, Set-Cookie header).
async fn rust_sign_in(body: &str, contents: CookieContents) -> (Vec<Cookie>, Vec<[String; 3]>) {
    let server = TestServer::start().await;
    server.push(Reply::json(200, body));
    let jar = Arc::new(CookieJar::default());
    auth(&server.url(), contents)
        .server_client(jar.clone())
        .sign_in_with_password("user@example.com", "hunter2")
        .await
        .unwrap();
    let calls = jar.set_all_calls();
    assert_eq!(calls.len(), 1);
    let written = calls[0]
        .cookies
        .iter()
        .map(|c| [c.name.clone(), c.value.clone(), c.to_header_value()])
        .collect();
    (jar.cookies(), written)
}

/// The session a Rust client with `contents` reads from `jar`: its stored JSON and user.
async fn rust_read(jar: &[Cookie], contents: CookieContents) -> (String, Option<Value>) {
    let client = auth("http://127.0.0.1:9", contents).server_client(CookieJar::new(jar.to_vec()));
    let session = client.get_session().await.unwrap().expect("a session");
    let user = session.user().map(|u| Value::Object(u.into_json()));
    (session.as_json().to_owned(), user)
}

#[tokio::test]
async fn js_and_rust_write_the_same_tokens_only_cookies_and_read_each_others() {
    let cases = cases();
    let tokens_only = |mut s: Value| {
        s["cookies"] = json!({ "encode": "tokens-only" });
        s
    };
    let sign_ins: Vec<Value> = cases
        .iter()
        .flat_map(|c| {
            let s = client_scenario(&[], vec![ok(c.body.clone())], vec![sign_in_step()]);
            [tokens_only(s.clone()), s]
        })
        .collect();
    let results = run_harness(&Value::Array(sign_ins));
    let results = results.as_array().unwrap();

    let mut rust_jars = Vec::new();
    for (case, js) in cases.iter().zip(results.chunks(2)) {
        let label = &case.label;
        let (lean, full) = (&js[0]["steps"][0], &js[1]["steps"][0]);
        for step in [lean, full] {
            assert_eq!(step["result"]["error"], Value::Null, "{label}");
        }
        let js_jar = jar_of(&lean["jarAfter"]);
        assert_eq!(
            js_jar.len(),
            case.tokens_only_cookies,
            "{label}: JS cookies"
        );
        assert_eq!(
            jar_of(&full["jarAfter"]).len(),
            case.default_cookies,
            "{label}: JS cookies with the default contents"
        );
        // The stored session is the answer without its user, keys in their order.
        let js_item = lean["itemsAfter"][K].as_str().unwrap();
        let mut want: serde_json::Map<String, Value> = serde_json::from_str(&case.body).unwrap();
        want.shift_remove("user");
        assert_eq!(
            serde_json::from_str::<Value>(js_item).unwrap(),
            Value::Object(want),
            "{label}"
        );
        assert!(!js_item.contains("\"user\""), "{label}");

        // Rust writes the same cookies, byte for byte.
        let (rust_jar, rust_written) = rust_sign_in(&case.body, CookieContents::TokensOnly).await;
        let js_written: Vec<[String; 3]> = set_all_calls(lean)[0]
            .cookies
            .iter()
            .map(|(n, v, h)| [n.clone(), v.clone(), h.clone()])
            .collect();
        assert_eq!(rust_written, js_written, "{label}: Set-Cookie");
        assert_eq!(rust_jar, js_jar, "{label}: jar");
        // With the default contents too (the control).
        let (rust_full, _) = rust_sign_in(&case.body, CookieContents::UserAndTokens).await;
        assert_eq!(rust_full, jar_of(&full["jarAfter"]), "{label}: default jar");

        // Rust reads what JS wrote, with either setting: the stored JSON, and no user.
        for contents in [CookieContents::TokensOnly, CookieContents::UserAndTokens] {
            assert_eq!(
                rust_read(&js_jar, contents).await,
                (js_item.to_owned(), None),
                "{label}: Rust ({contents:?}) reads the JS cookies"
            );
        }
        // Tokens-only ignores a user stored in the cookie, as JS does.
        let (full_json, user) = rust_read(&rust_full, CookieContents::TokensOnly).await;
        assert!(full_json.contains("\"user\"") && user.is_none(), "{label}");
        rust_jars.push(rust_jar);
    }

    // JS reads what Rust wrote, with either setting.
    let reads: Vec<Value> = rust_jars
        .iter()
        .flat_map(|jar| {
            let mut s = client_scenario(&[], vec![], vec![json!({ "op": "getSession" })]);
            s["jar"] = jar_json(jar);
            [tokens_only(s.clone()), s]
        })
        .collect();
    let results = run_harness(&Value::Array(reads));
    let results = results.as_array().unwrap();
    for ((case, jar), js) in cases.iter().zip(&rust_jars).zip(results.chunks(2)) {
        let label = &case.label;
        let (stored, _) = rust_read(jar, CookieContents::TokensOnly).await;
        let want: Value = serde_json::from_str(&stored).unwrap();
        for (setting, result) in [("tokens-only", &js[0]), ("default", &js[1])] {
            let step = &result["steps"][0];
            assert_eq!(step["result"]["error"], Value::Null, "{label} {setting}");
            let session = &step["result"]["data"]["session"];
            for field in ["access_token", "refresh_token", "expires_at"] {
                assert_eq!(session[field], want[field], "{label} {setting}: {field}");
            }
            for record in [&result["init"], step] {
                assert_eq!(record["requests"], json!([]), "{label} {setting}");
                assert_eq!(record["setAll"], json!([]), "{label} {setting}");
            }
        }
        // Tokens-only JS has no user to give (its placeholder throws when serialized);
        // the default setting serializes the stored session as it is, with no user.
        let lean = js[0]["steps"][0]["sessionJson"].as_str().unwrap();
        assert!(
            lean.starts_with("<unavailable: @supabase/auth-js: client was created with userStorage option and there was no user stored"),
            "{label}: {lean}"
        );
        assert_eq!(
            js[1]["steps"][0]["sessionJson"].as_str(),
            Some(stored.as_str()),
            "{label}"
        );
    }
}
