//! Shared helpers for the tests that compare this crate with the official JS packages
//! pinned in `interop/js`: running the harness (`interop/js/ssr/harness.mjs`, whose
//! header documents the scenario format), building canned Auth responses, and turning
//! harness output into values the crate's types can be compared with.
//!
//! Use from an integration test with `mod interop;`.
#![allow(dead_code, unused_imports, clippy::unwrap_used, clippy::expect_used)]

mod node;
mod rng;
pub(crate) mod sessions;
pub(crate) mod transitions;

pub(crate) use node::{call, js_dir, run_calls, run_harness, run_node_script};
pub(crate) use rng::Rng;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use supabase_ssr::cookies::{CACHE_HEADERS, Cookie, SetCookie};

/// Project URL used by the scenarios.
pub(crate) const URL: &str = "http://127.0.0.1:54321";
/// API key used by the scenarios.
pub(crate) const KEY: &str = "anon-key";
/// The storage key both libraries derive from [`URL`].
pub(crate) const STORAGE_KEY: &str = "sb-127-auth-token";
/// The frozen clock of the scenarios (a whole second, 2027-01-15T08:00:00Z).
pub(crate) const NOW: i64 = 1_800_000_000_000;

// ─── Scenarios ─────────────────────────────────────────────────────────────────────

/// A client scenario on [`URL`]/[`KEY`] with the clock frozen at [`NOW`].
pub(crate) fn client_scenario(jar: &[Cookie], responses: Vec<Value>, steps: Vec<Value>) -> Value {
    json!({
        "url": URL,
        "key": KEY,
        "now": NOW,
        "jar": jar_json(jar),
        "responses": responses,
        "steps": steps,
    })
}

/// `[[name, value], ...]` for a scenario jar.
pub(crate) fn jar_json(jar: &[Cookie]) -> Value {
    Value::Array(jar.iter().map(|c| json!([c.name, c.value])).collect())
}

/// A harness jar (`[[name, value], ...]`) as cookies.
pub(crate) fn jar_of(v: &Value) -> Vec<Cookie> {
    v.as_array()
        .expect("jar is an array")
        .iter()
        .map(|pair| {
            Cookie::new(
                pair[0].as_str().expect("name"),
                pair[1].as_str().expect("value"),
            )
        })
        .collect()
}

/// A canned 200 response; a string body is sent as is (exact bytes), anything else as
/// JSON.
pub(crate) fn ok(body: impl Into<Value>) -> Value {
    json!({ "status": 200, "headers": { "content-type": "application/json" }, "body": body.into() })
}

/// A canned response with only a status (e.g. 204 for `/logout`).
pub(crate) fn status_only(status: u16) -> Value {
    json!({ "status": status })
}

/// A canned Auth error in the 2024-01-01 API shape (`code`, `msg`).
pub(crate) fn auth_error(status: u16, code: &str, msg: &str) -> Value {
    json!({
        "status": status,
        "headers": { "content-type": "application/json", "x-supabase-api-version": "2024-01-01" },
        "body": { "code": code, "error_code": code, "msg": msg },
    })
}

/// `{"op": "signInWithPassword", ...}` with fixed credentials.
pub(crate) fn sign_in_step() -> Value {
    json!({ "op": "signInWithPassword", "email": "user@example.com", "password": "hunter2" })
}

// ─── Canned sessions ───────────────────────────────────────────────────────────────

/// An unsigned (fake-signed) JWT with these claims. Good for everything but local
/// signature verification.
pub(crate) fn fake_jwt(claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims"));
    let signature = URL_SAFE_NO_PAD.encode(b"not-a-real-signature-32-bytes-xx");
    format!("{header}.{payload}.{signature}")
}

/// A GoTrue-shaped user object with this `user_metadata`.
pub(crate) fn user_json(id: &str, email: &str, user_metadata: Value) -> Value {
    json!({
        "id": id,
        "aud": "authenticated",
        "role": "authenticated",
        "email": email,
        "email_confirmed_at": "2026-11-01T10:00:00.000000Z",
        "phone": "",
        "confirmed_at": "2026-11-01T10:00:00.000000Z",
        "last_sign_in_at": "2027-01-15T08:00:00.000000Z",
        "app_metadata": { "provider": "email", "providers": ["email"] },
        "user_metadata": user_metadata,
        "identities": [{
            "identity_id": "6c1b8a0e-4f5e-4b8e-9b51-2d1a4c9d8f10",
            "id": id,
            "user_id": id,
            "identity_data": { "email": email, "email_verified": true, "sub": id },
            "provider": "email",
            "last_sign_in_at": "2026-11-01T10:00:00.000000Z",
            "created_at": "2026-11-01T10:00:00.000000Z",
            "updated_at": "2026-11-01T10:00:00.000000Z",
            "email": email,
        }],
        "created_at": "2026-11-01T10:00:00.000000Z",
        "updated_at": "2027-01-15T08:00:00.000000Z",
        "is_anonymous": false,
    })
}

/// A `/token` response body as GoTrue sends it (with `expires_at`), for `user`,
/// issued at `now_millis`, valid for an hour. `tag` makes the tokens distinct.
pub(crate) fn session_body(user: Value, now_millis: i64, tag: &str) -> Value {
    let iat = now_millis / 1000;
    let exp = iat + 3600;
    let access_token = fake_jwt(&json!({
        "iss": format!("{URL}/auth/v1"),
        "sub": user["id"],
        "aud": "authenticated",
        "exp": exp,
        "iat": iat,
        "email": user["email"],
        "role": "authenticated",
        "aal": "aal1",
        "session_id": format!("session-{tag}"),
        "is_anonymous": false,
    }));
    json!({
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": 3600,
        "expires_at": exp,
        "refresh_token": format!("rt-{tag}"),
        "user": user,
    })
}

/// `body` without its `expires_at` (auth-js then appends one).
pub(crate) fn without_expires_at(mut body: Value) -> Value {
    body.as_object_mut().expect("object").remove("expires_at");
    body
}

/// ASCII filler metadata of about `size` bytes.
pub(crate) fn filler_metadata(size: usize) -> Value {
    let text: String = "Lorem ipsum dolor sit amet, 0123456789. "
        .chars()
        .cycle()
        .take(size)
        .collect();
    json!({ "full_name": "Ada Lovelace", "bio": text })
}

/// A canned `/token` 200 response for a user whose `user_metadata` holds about
/// `user_metadata_size` bytes of ASCII, issued at `now_millis`.
pub(crate) fn session_response(user_metadata_size: usize, now_millis: i64) -> Value {
    let user = user_json(
        "9a7f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
        "user@example.com",
        filler_metadata(user_metadata_size),
    );
    ok(session_body(
        user,
        now_millis,
        &format!("m{user_metadata_size}"),
    ))
}

// ─── Harness output ────────────────────────────────────────────────────────────────

/// One `setAll` call: each cookie as (name, value, Set-Cookie header), and the headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SetAllCall {
    pub(crate) cookies: Vec<(String, String, String)>,
    pub(crate) headers: Vec<(String, String)>,
}

/// The `setAll` calls of one harness record (a step, or `init`).
pub(crate) fn set_all_calls(record: &Value) -> Vec<SetAllCall> {
    record["setAll"]
        .as_array()
        .expect("setAll")
        .iter()
        .map(|call| SetAllCall {
            cookies: call["cookies"]
                .as_array()
                .expect("cookies")
                .iter()
                .map(|c| {
                    (
                        c["name"].as_str().expect("name").to_owned(),
                        c["value"].as_str().expect("value").to_owned(),
                        c["header"].as_str().expect("header").to_owned(),
                    )
                })
                .collect(),
            headers: call["headers"]
                .as_object()
                .expect("headers")
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().expect("header value").to_owned()))
                .collect(),
        })
        .collect()
}

/// One HTTP request the JS client made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) url: String,
    /// Lowercased names, sorted.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Option<String>,
}

impl Request {
    /// This request's [`COMPARED_HEADERS`].
    pub(crate) fn compared_headers(&self) -> Vec<(String, String)> {
        compared_headers(|name| {
            self.headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        })
    }
}

/// The headers both clients must send alike (`x-client-info` names each library).
pub(crate) const COMPARED_HEADERS: [&str; 4] = [
    "apikey",
    "authorization",
    "content-type",
    "x-supabase-api-version",
];

/// `(name, value)` of each of [`COMPARED_HEADERS`] that `header` finds, in that order.
pub(crate) fn compared_headers<'a>(
    header: impl Fn(&str) -> Option<&'a str>,
) -> Vec<(String, String)> {
    COMPARED_HEADERS
        .iter()
        .filter_map(|name| header(name).map(|value| ((*name).to_owned(), value.to_owned())))
        .collect()
}

/// The requests of one harness record (a step, or `init`).
pub(crate) fn requests_of(record: &Value) -> Vec<Request> {
    record["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .map(|r| {
            let mut headers: Vec<(String, String)> = r["headers"]
                .as_object()
                .expect("headers")
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().expect("header value").to_owned()))
                .collect();
            headers.sort();
            Request {
                method: r["method"].as_str().expect("method").to_owned(),
                url: r["url"].as_str().expect("url").to_owned(),
                headers,
                body: r["body"].as_str().map(str::to_owned),
            }
        })
        .collect()
}

/// The cookies of a `set_all` call as the harness reports them: (name, value, Set-Cookie).
fn reported(cookies: &[SetCookie]) -> Vec<(String, String, String)> {
    cookies
        .iter()
        .map(|c| (c.name.clone(), c.value.clone(), c.to_header_value()))
        .collect()
}

impl From<&supabase_ssr::cookies::SetAllCall> for SetAllCall {
    /// A `set_all` call a `CookieJar` recorded, in the harness's terms.
    fn from(call: &supabase_ssr::cookies::SetAllCall) -> Self {
        Self {
            cookies: reported(&call.cookies),
            headers: call.headers.clone(),
        }
    }
}

/// The `setAll` call the crate makes for a write plan: cookies with their
/// `to_header_value()`, and [`CACHE_HEADERS`] when `first` (the first write of a client).
pub(crate) fn rust_call(plan: &[SetCookie], first: bool) -> SetAllCall {
    SetAllCall {
        cookies: reported(plan),
        headers: if first {
            CACHE_HEADERS
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        } else {
            Vec::new()
        },
    }
}

/// Applies a write plan to a jar the way the harness does (the proxy pattern).
pub(crate) fn apply_plan(jar: &mut Vec<Cookie>, plan: &[SetCookie]) {
    for c in plan {
        if c.options.is_removal() {
            jar.retain(|j| j.name != c.name);
        } else if let Some(first) = jar.iter().position(|j| j.name == c.name) {
            jar[first].value.clone_from(&c.value);
            let mut i = 0;
            jar.retain(|j| {
                i += 1;
                i - 1 <= first || j.name != c.name
            });
        } else {
            jar.push(Cookie::new(c.name.clone(), c.value.clone()));
        }
    }
}

/// A JSON object (a response body parsed by `serde_json`, order preserved).
pub(crate) fn object(text: &str) -> Map<String, Value> {
    serde_json::from_str(text).expect("a JSON object")
}
