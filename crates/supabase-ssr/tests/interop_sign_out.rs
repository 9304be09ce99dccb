//! `ServerClient::sign_out` against auth-js 2.119.1's `signOut`, run by the interop
//! harness (`interop/js/ssr/harness.mjs`) through `@supabase/ssr`'s
//! `createServerClient`: for each scope and each kind of answer to `POST /logout`, both
//! must end the same way (no error, or an error that is retryable or not, with the same
//! status) and write the same cookies.
//!
//! The answers come from two places: bytes served alike to both clients (every status
//! exactly, and a connection closed without an answer), and the Auth emulator, which
//! both clients call in turn with sessions of their own (a session or a user the server
//! no longer knows, a wrong API key, a wrong base path, and its fault mode for 500, 503
//! and dropped connections).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod interop;
mod support;

use std::sync::Arc;
use std::time::Duration;

use interop::sessions::jar_for;
use interop::{
    KEY, NOW, STORAGE_KEY, SetAllCall, URL, auth_error, client_scenario, compared_headers,
    jar_json, requests_of, run_harness, session_body, session_response, set_all_calls, user_json,
};
use serde_json::{Value, json};
use supabase_auth_emulator::{Emulator, EmulatorConfig};
use supabase_ssr::adapter::codec::to_base64_value;
use supabase_ssr::clock::ManualClock;
use supabase_ssr::cookies::{CACHE_HEADERS, Cookie, CookieConfig, CookieJar};
use supabase_ssr::{AuthError, SignOutScope, SupabaseAuth};
use support::{Reply, TestServer};

const SCOPES: [SignOutScope; 3] = [
    SignOutScope::Local,
    SignOutScope::Others,
    SignOutScope::Global,
];

/// Each answer with each scope.
fn with_every_scope(answers: &[Canned]) -> Vec<(&Canned, SignOutScope)> {
    answers
        .iter()
        .flat_map(|a| SCOPES.iter().map(move |s| (a, *s)))
        .collect()
}

/// How a sign-out ended, in terms both libraries can be compared in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// `{ error: null }` in auth-js, `Ok(())` here.
    SignedOut,
    /// An error: retryable (`AuthRetryableFetchError`, `AuthError::is_retryable`) or
    /// not, with its HTTP status (none for a failed connection, or for auth-js's
    /// `AuthUnknownError`).
    Failed {
        retryable: bool,
        status: Option<u16>,
    },
}

const SIGNED_OUT: Outcome = Outcome::SignedOut;

const fn failed(retryable: bool, status: Option<u16>) -> Outcome {
    Outcome::Failed { retryable, status }
}

/// The `set_all` calls a sign-out ending in `outcome` makes: `deleted` when auth-js
/// 2.119.1 removes the stored session (`_signOut`: `local` before the request whatever the
/// answer, `global` only once the server accepted, or answered 401/403/404 or
/// `session_not_found`, `others` never), none otherwise.
fn cookie_writes(scope: SignOutScope, outcome: Outcome, deleted: &[SetAllCall]) -> Vec<SetAllCall> {
    let deletes = match scope {
        SignOutScope::Local => true,
        SignOutScope::Global => outcome == SIGNED_OUT,
        _ => false,
    };
    if deletes { deleted.to_vec() } else { vec![] }
}

/// The auth-js side of a harness step: its outcome and its error's name.
fn js_outcome(step: &Value) -> (Outcome, Option<String>) {
    let result = &step["result"];
    assert!(result.get("thrown").is_none(), "signOut threw: {result}");
    let error = &result["error"];
    if error.is_null() {
        return (SIGNED_OUT, None);
    }
    let status = error["status"]
        .as_u64()
        .filter(|s| *s != 0)
        .map(|s| u16::try_from(s).unwrap());
    let name = error["name"].as_str().unwrap().to_owned();
    let retryable = name == "AuthRetryableFetchError";
    (failed(retryable, status), Some(name))
}

fn rust_outcome(result: &Result<(), AuthError>) -> Outcome {
    match result {
        Ok(()) => SIGNED_OUT,
        Err(e) => failed(e.is_retryable(), e.status()),
    }
}

/// The `set_all` calls a Rust jar received, in the harness's terms.
fn rust_set_all(jar: &CookieJar) -> Vec<SetAllCall> {
    jar.set_all_calls().iter().map(SetAllCall::from).collect()
}

/// The one `set_all` call that deletes these cookies, with the cache headers (it is
/// the client's first write).
fn deletion(names: &[&str]) -> Vec<SetAllCall> {
    vec![SetAllCall {
        cookies: names
            .iter()
            .map(|n| {
                (
                    (*n).to_owned(),
                    String::new(),
                    format!("{n}=; Max-Age=0; Path=/; SameSite=Lax"),
                )
            })
            .collect(),
        headers: CACHE_HEADERS
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }]
}

// ─── The same bytes served to both ─────────────────────────────────────────────────

/// One answer to `POST /logout`, as the harness serves it and as the test server does.
struct Canned {
    label: &'static str,
    /// `None`: the connection closes without an answer.
    status: Option<u16>,
    headers: Vec<(&'static str, &'static str)>,
    body: String,
    /// What auth-js reports: the outcome and its error's name.
    auth_js: (Outcome, Option<&'static str>),
    /// What `sign_out` reports, when it is not what auth-js does (see the case).
    rust: Option<Outcome>,
}

const JSON: (&str, &str) = ("content-type", "application/json");
const TEXT: (&str, &str) = ("content-type", "text/plain; charset=utf-8");

impl Canned {
    /// An answer auth-js takes as signed out, until told otherwise.
    fn http(
        label: &'static str,
        status: u16,
        headers: Vec<(&'static str, &'static str)>,
        body: &str,
    ) -> Self {
        Self {
            label,
            status: Some(status),
            headers,
            body: body.to_owned(),
            auth_js: (SIGNED_OUT, None),
            rust: None,
        }
    }

    /// A GoTrue error in the 2024-01-01 shape (as `interop::auth_error` builds it),
    /// labelled with its code.
    fn gotrue(status: u16, code: &'static str, msg: &str) -> Self {
        let body = auth_error(status, code, msg)["body"].to_string();
        Self::http(
            code,
            status,
            vec![JSON, ("x-supabase-api-version", "2024-01-01")],
            &body,
        )
    }

    /// The connection closes without an answer.
    fn no_answer() -> Self {
        Self {
            status: None,
            ..Self::http("connection closed without an answer", 0, vec![], "")
        }
        .auth_js(failed(true, None), "AuthRetryableFetchError")
    }

    fn auth_js(mut self, outcome: Outcome, error: &'static str) -> Self {
        self.auth_js = (outcome, Some(error));
        self
    }

    fn rust(mut self, outcome: Outcome) -> Self {
        self.rust = Some(outcome);
        self
    }

    fn js(&self) -> Value {
        let Some(status) = self.status else {
            return json!({ "networkError": "fetch failed" });
        };
        let headers: serde_json::Map<String, Value> = self
            .headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        let mut js = json!({ "status": status, "headers": headers });
        if !self.body.is_empty() {
            js["body"] = json!(self.body);
        }
        js
    }

    fn reply(&self) -> Reply {
        let Some(status) = self.status else {
            return Reply::Close;
        };
        Reply::Respond {
            status,
            headers: self
                .headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: self.body.as_bytes().to_vec(),
        }
    }
}

fn answers() -> Vec<Canned> {
    let retryable = |status| failed(true, status);
    vec![
        Canned::http("204, no body", 204, vec![], ""),
        Canned::http("200 with a body", 200, vec![JSON], "{}"),
        Canned::gotrue(
            401,
            "no_authorization",
            "This endpoint requires a valid Bearer token",
        ),
        // Kong in front of Auth: JSON without a code or an API version.
        Canned::http(
            "401 from the API gateway",
            401,
            vec![JSON],
            r#"{"message":"Invalid authentication credentials"}"#,
        ),
        Canned::gotrue(
            403,
            "bad_jwt",
            "invalid JWT: unable to parse or verify signature, token has invalid claims: token is expired",
        ),
        // auth-js turns this code into an `AuthSessionMissingError`.
        Canned::gotrue(
            403,
            "session_not_found",
            "Session from session_id claim in JWT does not exist",
        ),
        Canned::gotrue(403, "user_not_found", "User from sub claim in JWT does not exist"),
        Canned::gotrue(403, "user_banned", "User is banned"),
        // Auth before v2.145.0: a missing user, in the shape of its time.
        Canned::http(
            "404 from Auth before error codes",
            404,
            vec![JSON],
            r#"{"code":404,"msg":"User not found"}"#,
        ),
        // A 4xx that auth-js does not make an `AuthApiError`, so it is an error there.
        Canned::gotrue(403, "weak_password", "Password is known to be weak")
            .auth_js(failed(false, Some(403)), "AuthWeakPasswordError"),
        // Not JSON (GoTrue's own 404 page): auth-js cannot read it and reports an
        // `AuthUnknownError`, without a status; `sign_out` fails too, and keeps the status.
        Canned::http("404, not JSON", 404, vec![TEXT], "404 page not found\n")
            .auth_js(failed(false, None), "AuthUnknownError")
            .rust(failed(false, Some(404))),
        Canned::gotrue(400, "validation_failed", "Unsupported logout scope")
            .auth_js(failed(false, Some(400)), "AuthApiError"),
        Canned::gotrue(429, "over_request_rate_limit", "Request rate limit reached")
            .auth_js(failed(false, Some(429)), "AuthApiError"),
        Canned::http(
            "500 unexpected_failure",
            500,
            vec![JSON],
            r#"{"code":500,"error_code":"unexpected_failure","msg":"Unexpected failure, please check server logs for more information"}"#,
        )
        .auth_js(retryable(Some(500)), "AuthRetryableFetchError"),
        Canned::http(
            "503 from the gateway",
            503,
            vec![JSON],
            r#"{"message":"Service Unavailable"}"#,
        )
        .auth_js(retryable(Some(503)), "AuthRetryableFetchError"),
        Canned::http("502, not JSON", 502, vec![TEXT], "upstream connect error")
            .auth_js(retryable(Some(502)), "AuthRetryableFetchError"),
        Canned::no_answer(),
    ]
}

/// A request as compared: method, path and query, and the headers both must send alike.
type Sent = (String, String, Vec<(String, String)>);

fn js_requests(record: &Value, base: &str) -> Vec<Sent> {
    requests_of(record)
        .into_iter()
        .map(|r| {
            let headers = r.compared_headers();
            (r.method, r.url.trim_start_matches(base).to_owned(), headers)
        })
        .collect()
}

/// The browser's cookies: a session, a pending PKCE verifier, and a cookie of the app.
fn signed_in_jar() -> Vec<Cookie> {
    let body = session_response(200, NOW)["body"].to_string();
    let stored = interop::sessions::stored(&body);
    let mut jar = jar_for(&stored, &CookieConfig::default());
    jar.push(Cookie::new(
        format!("{STORAGE_KEY}-code-verifier"),
        to_base64_value("\"abc\""),
    ));
    jar.push(Cookie::new("theme", "dark"));
    jar
}

/// `sign_out(scope)` with `answer` served to `POST /logout`.
async fn rust_canned(
    jar: &[Cookie],
    answer: &Canned,
    scope: SignOutScope,
) -> (Outcome, Vec<SetAllCall>, Vec<Sent>) {
    let server = TestServer::start().await;
    server.push(answer.reply());
    let auth = SupabaseAuth::builder(server.url(), KEY)
        .clock(ManualClock::new(NOW))
        .build()
        .unwrap();
    let cookies = Arc::new(CookieJar::new(jar.to_vec()));
    let result = auth.server_client(cookies.clone()).sign_out(scope).await;
    let requests = server
        .requests()
        .iter()
        .map(|r| {
            (
                r.method.clone(),
                r.target.clone(),
                compared_headers(|h| r.header(h)),
            )
        })
        .collect();
    (rust_outcome(&result), rust_set_all(&cookies), requests)
}

/// Every scope against every answer: auth-js's error (or none) is the expected one, it
/// and `sign_out` end alike, both write exactly the expected `set_all` call (or none),
/// and both send the same single request.
#[tokio::test]
async fn sign_out_ends_like_auth_js_for_every_scope_and_answer() {
    let jar = signed_in_jar();
    let answers = answers();
    let cases = with_every_scope(&answers);
    let scenarios: Vec<Value> = cases
        .iter()
        .map(|(answer, scope)| {
            client_scenario(
                &jar,
                vec![answer.js()],
                vec![json!({ "op": "signOut", "scope": scope.as_str() })],
            )
        })
        .collect();
    let js = run_harness(&Value::Array(scenarios));
    let deleted = deletion(&[STORAGE_KEY, &format!("{STORAGE_KEY}-code-verifier")]);
    let mut failures = Vec::new();
    for ((answer, scope), js) in cases.iter().zip(js.as_array().unwrap()) {
        let case = format!("{scope} / {}", answer.label);
        assert_eq!(js["unusedResponses"], 0, "{case}");
        assert_eq!(set_all_calls(&js["init"]), vec![], "{case}");
        let step = &js["steps"][0];
        let (js_outcome, js_error) = js_outcome(step);
        let js_writes = set_all_calls(step);
        let js_requests = js_requests(step, URL);
        let (rust_outcome, rust_writes, rust_requests) = rust_canned(&jar, answer, *scope).await;

        let (auth_js, error_name) = answer.auth_js;
        let expected_rust = answer.rust.unwrap_or(auth_js);
        let writes = |outcome| cookie_writes(*scope, outcome, &deleted);
        let expected = (
            auth_js,
            error_name.map(str::to_owned),
            writes(auth_js),
            expected_rust,
            writes(expected_rust),
        );
        let got = (js_outcome, js_error, js_writes, rust_outcome, rust_writes);
        if got != expected {
            failures.push(format!(
                "{case}:\n  expected (JS outcome, JS error, JS writes, Rust outcome, Rust writes) \
                 {expected:?}\n  got {got:?}"
            ));
        }
        let logout = format!("/auth/v1/logout?scope={scope}");
        if js_requests.len() != 1 || js_requests[0].1 != logout || js_requests != rust_requests {
            failures.push(format!(
                "{case}: requests\n  JS:   {js_requests:?}\n  Rust: {rust_requests:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A session whose access token expired ten seconds before [`NOW`].
fn expired_jar() -> Vec<Cookie> {
    let user = user_json(
        "9a7f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
        "user@example.com",
        json!({}),
    );
    let mut body = session_body(user, NOW - 3_600_000, "old");
    body["expires_at"] = json!(NOW / 1000 - 10);
    let stored = interop::sessions::stored(&body.to_string());
    jar_for(&stored, &CookieConfig::default())
}

/// The session needs a refresh first, and the refresh fails for want of the server:
/// auth-js returns that error without calling `/logout` (the expired token could not
/// sign anything out), and `local` deletes the session anyway.
#[tokio::test]
async fn sign_out_after_a_refresh_the_server_could_not_answer_ends_like_auth_js() {
    let jar = expired_jar();
    let answers = [
        Canned::http(
            "503 from the gateway",
            503,
            vec![JSON],
            r#"{"message":"Service Unavailable"}"#,
        )
        .auth_js(failed(true, Some(503)), "AuthRetryableFetchError"),
        Canned::no_answer(),
    ];
    let cases = with_every_scope(&answers);
    // auth-js retries the refresh with back-off (instant here) at construction and
    // again in `signOut`: enough failures for both.
    let scenarios: Vec<Value> = cases
        .iter()
        .map(|(answer, scope)| {
            client_scenario(
                &jar,
                vec![answer.js(); 20],
                vec![json!({ "op": "signOut", "scope": scope.as_str() })],
            )
        })
        .collect();
    let js = run_harness(&Value::Array(scenarios));
    let deleted = deletion(&[STORAGE_KEY]);
    let mut failures = Vec::new();
    for ((answer, scope), js) in cases.iter().zip(js.as_array().unwrap()) {
        let case = format!("{scope} / refresh: {}", answer.label);
        let step = &js["steps"][0];
        let js_paths: Vec<String> = [&js["init"], step]
            .into_iter()
            .flat_map(|r| js_requests(r, URL))
            .map(|(_, path, _)| path)
            .collect();

        let server = TestServer::start().await;
        server.set_fallback(answer.reply());
        let auth = SupabaseAuth::builder(server.url(), KEY)
            .clock(ManualClock::new(NOW))
            .retry_budget(Duration::from_millis(100))
            .build()
            .unwrap();
        let cookies = Arc::new(CookieJar::new(jar.clone()));
        let result = auth.server_client(cookies.clone()).sign_out(*scope).await;
        let rust_paths: Vec<String> = server.requests().iter().map(|r| r.target.clone()).collect();

        let (auth_js, error_name) = answer.auth_js;
        let writes = if *scope == SignOutScope::Local {
            deleted.clone()
        } else {
            vec![]
        };
        let expected = (
            auth_js,
            error_name.map(str::to_owned),
            vec![],
            writes.clone(),
            auth_js,
            writes,
        );
        let (js_outcome, js_error) = js_outcome(step);
        let got = (
            js_outcome,
            js_error,
            set_all_calls(&js["init"]),
            set_all_calls(step),
            rust_outcome(&result),
            rust_set_all(&cookies),
        );
        if got != expected {
            failures.push(format!(
                "{case}:\n  expected (JS outcome, JS error, JS init writes, JS writes, Rust \
                 outcome, Rust writes) {expected:?}\n  got {got:?}"
            ));
        }
        let refresh = "/auth/v1/token?grant_type=refresh_token";
        for (side, paths) in [("JS", &js_paths), ("Rust", &rust_paths)] {
            if paths.is_empty() || paths.iter().any(|p| p != refresh) {
                failures.push(format!("{case}: {side} requests {paths:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ─── The emulator, called by both ──────────────────────────────────────────────────

/// What the emulator does to the sign-out request.
#[derive(Debug, Clone, Copy)]
enum Condition {
    /// Nothing: it ends the sessions and answers 204.
    Accepted,
    /// The session was already ended: 403 `session_not_found`.
    SessionEnded,
    /// The user was deleted: 403 `user_not_found`.
    UserDeleted,
    /// The clients send an API key the gateway does not know: 401 (JSON).
    WrongApiKey,
    /// The clients' project URL has a path the server does not serve: its 404 page
    /// (plain text).
    WrongBasePath,
    /// The fault mode answers `POST /logout` with this status.
    Fails(u16),
    /// The fault mode drops the connection of `POST /logout`.
    Dropped,
}

impl Condition {
    /// What auth-js reports.
    fn auth_js(self) -> (Outcome, Option<&'static str>) {
        match self {
            Self::Accepted | Self::SessionEnded | Self::UserDeleted | Self::WrongApiKey => {
                (SIGNED_OUT, None)
            }
            Self::WrongBasePath => (failed(false, None), Some("AuthUnknownError")),
            Self::Fails(status) => (failed(true, Some(status)), Some("AuthRetryableFetchError")),
            Self::Dropped => (failed(true, None), Some("AuthRetryableFetchError")),
        }
    }

    /// What `sign_out` reports, when it is not what auth-js does.
    fn rust(self) -> Outcome {
        match self {
            // Not JSON: an error as in auth-js, which keeps the status.
            Self::WrongBasePath => failed(false, Some(404)),
            other => other.auth_js().0,
        }
    }

    /// The status the emulator answered `POST /logout` with (`None`: no answer).
    fn status(self) -> Option<u16> {
        match self {
            Self::Accepted => Some(204),
            Self::SessionEnded | Self::UserDeleted => Some(403),
            Self::WrongApiKey => Some(401),
            Self::WrongBasePath => Some(404),
            Self::Fails(status) => Some(status),
            Self::Dropped => None,
        }
    }
}

/// A fresh user signed in through the crate: its id and the browser's cookies.
async fn signed_in_user(emu: &Emulator, email: &str) -> (String, Vec<Cookie>) {
    let user = emu.create_user(email, common::PASSWORD).await.unwrap();
    let jar = Arc::new(CookieJar::default());
    common::auth(emu)
        .server_client(jar.clone())
        .sign_in_with_password(email, common::PASSWORD)
        .await
        .unwrap();
    (user["id"].as_str().unwrap().to_owned(), jar.cookies())
}

/// Puts the emulator (or the user's session) in `condition` for this user.
async fn prepare(emu: &Emulator, condition: Condition, user_id: &str, cookies: &[Cookie]) {
    match condition {
        Condition::SessionEnded => {
            // Another request ends the session; this browser still holds its cookies.
            common::auth(emu)
                .server_client(CookieJar::new(cookies.to_vec()))
                .sign_out(SignOutScope::Local)
                .await
                .unwrap();
        }
        Condition::UserDeleted => {
            let key = emu.secret_key();
            let res = reqwest::Client::new()
                .delete(format!("{}/admin/users/{user_id}", emu.auth_url()))
                .header("apikey", key)
                .header("authorization", format!("Bearer {key}"))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        }
        _ => {}
    }
}

fn switch_faults_on(emu: &Emulator, condition: Condition) {
    let faults = emu.faults();
    match condition {
        Condition::Fails(status) => {
            faults.only_paths(&["/logout"]);
            faults.fail_all(status).unwrap();
        }
        Condition::Dropped => {
            faults.only_paths(&["/logout"]);
            faults.drop_connections(true);
        }
        _ => {}
    }
}

/// The project URL and API key the signing-out clients use.
fn client_config(emu: &Emulator, condition: Condition) -> (String, String) {
    match condition {
        Condition::WrongApiKey => (emu.url(), "sb_publishable_unknown".to_owned()),
        Condition::WrongBasePath => (
            format!("{}/missing", emu.url()),
            emu.publishable_key().to_owned(),
        ),
        _ => (emu.url(), emu.publishable_key().to_owned()),
    }
}

/// Every scope against the emulator in each condition: auth-js and `sign_out` get the
/// same answer from the same server and end alike, with the same cookie writes. The
/// harness runs in a blocking task while the emulator keeps serving on the runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_against_the_emulator_ends_like_auth_js() {
    let emu = common::emulator_with(EmulatorConfig::default()).await;
    let conditions = [
        Condition::Accepted,
        Condition::SessionEnded,
        Condition::UserDeleted,
        Condition::WrongApiKey,
        Condition::WrongBasePath,
        Condition::Fails(500),
        Condition::Fails(503),
        Condition::Dropped,
    ];
    let deleted = deletion(&[STORAGE_KEY]);
    let mut failures = Vec::new();
    for (n, condition) in conditions.into_iter().enumerate() {
        // Each scope and each library gets a user of its own, so a global sign-out of
        // one cannot end another's session.
        let mut js_jars = Vec::new();
        let mut rust_jars = Vec::new();
        for scope in SCOPES {
            for (side, jars) in [("js", &mut js_jars), ("rust", &mut rust_jars)] {
                let email = format!("{side}-{scope}-{n}@example.com");
                let (id, cookies) = signed_in_user(&emu, &email).await;
                prepare(&emu, condition, &id, &cookies).await;
                jars.push(cookies);
            }
        }
        let (url, key) = client_config(&emu, condition);
        switch_faults_on(&emu, condition);

        let scenarios: Vec<Value> = SCOPES
            .iter()
            .zip(&js_jars)
            .map(|(scope, jar)| {
                json!({
                    "url": url,
                    "key": key,
                    "live": true,
                    "jar": jar_json(jar),
                    "steps": [{ "op": "signOut", "scope": scope.as_str() }],
                })
            })
            .collect();
        let js = tokio::task::spawn_blocking(move || run_harness(&Value::Array(scenarios)))
            .await
            .unwrap();

        let auth = SupabaseAuth::builder(url.as_str(), key.as_str())
            .build()
            .unwrap();
        for ((scope, rust_jar), js) in SCOPES.iter().zip(&rust_jars).zip(js.as_array().unwrap()) {
            let case = format!("{scope} / {condition:?}");
            assert_eq!(set_all_calls(&js["init"]), vec![], "{case}");
            let step = &js["steps"][0];
            let requests: Vec<(String, String, Option<u64>)> = step["requests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["method"].as_str().unwrap().to_owned(),
                        r["url"]
                            .as_str()
                            .unwrap()
                            .trim_start_matches(&url)
                            .to_owned(),
                        r["status"].as_u64(),
                    )
                })
                .collect();
            let logout = format!("/auth/v1/logout?scope={scope}");
            let answered = condition.status().map(u64::from);
            if requests != [("POST".to_owned(), logout.clone(), answered)] {
                failures.push(format!("{case}: JS requests {requests:?}"));
            }

            emu.clear_requests();
            let cookies = Arc::new(CookieJar::new(rust_jar.clone()));
            let result = auth.server_client(cookies.clone()).sign_out(*scope).await;
            let rust_requests: Vec<(String, String)> = emu
                .requests()
                .iter()
                .map(|r| (r.method.clone(), format!("{}?{}", r.path, r.query)))
                .collect();
            let path = url.trim_start_matches(&emu.url());
            if rust_requests != [("POST".to_owned(), format!("{path}{logout}"))] {
                failures.push(format!("{case}: Rust requests {rust_requests:?}"));
            }

            let (auth_js, error_name) = condition.auth_js();
            let writes = |outcome| cookie_writes(*scope, outcome, &deleted);
            let expected = (
                auth_js,
                error_name.map(str::to_owned),
                writes(auth_js),
                condition.rust(),
                writes(condition.rust()),
            );
            let (js_outcome, js_error) = js_outcome(step);
            let got = (
                js_outcome,
                js_error,
                set_all_calls(step),
                rust_outcome(&result),
                rust_set_all(&cookies),
            );
            if got != expected {
                failures.push(format!(
                    "{case}:\n  expected (JS outcome, JS error, JS writes, Rust outcome, Rust writes) \
                     {expected:?}\n  got {got:?}"
                ));
            }
        }
        emu.faults().clear();
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
