//! The Rust `ServerClient` and the official `createServerClient` run the same scenarios
//! against the same canned Auth answers: every `set_all` call (names, values, the
//! Set-Cookie bytes, the cache headers) and every HTTP request (method, path, query,
//! body, headers) must be equal.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod interop;
mod support;

use std::sync::Arc;

use interop::sessions::jar_for;
use interop::{
    KEY, NOW, Request, STORAGE_KEY, SetAllCall, auth_error, client_scenario, ok, requests_of,
    run_harness, session_body, session_response, set_all_calls, status_only, user_json,
};
use serde_json::{Value, json};
use supabase_ssr::clock::ManualClock;
use supabase_ssr::cookies::{Cookie, CookieConfig, CookieJar, to_base64_value};
use supabase_ssr::{SignOutScope, SupabaseAuth, VerifyOtp};
use support::{Reply, TestServer};

/// A scenario: the browser's cookies, the Auth answers in order, the calls.
struct Case {
    name: &'static str,
    jar: Vec<Cookie>,
    responses: Vec<Value>,
    steps: Vec<Value>,
}

fn reply_of(response: &Value) -> Reply {
    let status = u16::try_from(response["status"].as_u64().unwrap()).unwrap();
    let mut reply = match &response["body"] {
        Value::Null => Reply::empty(status),
        Value::String(s) => Reply::json(status, s),
        body => Reply::json(status, &body.to_string()),
    };
    if let Some(headers) = response["headers"].as_object() {
        for (k, v) in headers {
            if k != "content-type" {
                reply = reply.with_header(k, v.as_str().unwrap());
            }
        }
    }
    reply
}

/// A request as compared: method, path and query, body, the compared headers.
type Sent = (String, String, Option<String>, Vec<(String, String)>);

/// What one step did: its `set_all` calls and its requests.
#[derive(Debug, PartialEq)]
struct Effects {
    set_all: Vec<SetAllCall>,
    requests: Vec<Sent>,
}

/// The headers both clients must send alike (`x-client-info` names each library).
const COMPARED_HEADERS: [&str; 4] = [
    "apikey",
    "authorization",
    "content-type",
    "x-supabase-api-version",
];

fn js_effects(record: &Value, init: Option<&Value>) -> Effects {
    let mut set_all = Vec::new();
    let mut requests: Vec<Request> = Vec::new();
    for r in init.into_iter().chain(std::iter::once(record)) {
        set_all.extend(set_all_calls(r));
        requests.extend(requests_of(r));
    }
    Effects {
        set_all,
        requests: requests
            .into_iter()
            .map(|r| {
                let path = r
                    .url
                    .trim_start_matches("http://127.0.0.1:54321")
                    .to_owned();
                let headers = COMPARED_HEADERS
                    .iter()
                    .filter_map(|h| {
                        r.headers
                            .iter()
                            .find(|(n, _)| n == h)
                            .map(|(n, v)| (n.clone(), v.clone()))
                    })
                    .collect();
                (r.method, path, r.body.filter(|b| !b.is_empty()), headers)
            })
            .collect(),
    }
}

async fn run_rust(case: &Case) -> Vec<Effects> {
    let server = TestServer::start().await;
    for r in &case.responses {
        server.push(reply_of(r));
    }
    let auth = SupabaseAuth::builder(server.url(), KEY)
        .clock(ManualClock::new(NOW))
        .jwt_issuer(Some("http://127.0.0.1:54321/auth/v1".into()))
        .build()
        .unwrap();
    let mut jar = Arc::new(CookieJar::new(case.jar.clone()));
    let mut client = auth.server_client(jar.clone());
    let mut seen_calls = 0;
    let mut seen_requests = 0;
    let mut out = Vec::new();
    for step in &case.steps {
        let op = step["op"].as_str().unwrap();
        match op {
            "signInWithPassword" => {
                let _ = client
                    .sign_in_with_password(
                        step["email"].as_str().unwrap(),
                        step["password"].as_str().unwrap(),
                    )
                    .await;
            }
            "getSession" => {
                let _ = client.get_session().await;
            }
            "getUser" => {
                let _ = client.get_user().await;
            }
            "getClaims" => {
                let _ = client.get_claims().await;
            }
            "refreshSession" => {
                let _ = client.refresh_session().await;
            }
            "signOut" => {
                let scope = match step["scope"].as_str() {
                    Some("local") => SignOutScope::Local,
                    Some("others") => SignOutScope::Others,
                    _ => SignOutScope::Global,
                };
                let _ = client.sign_out(scope).await;
            }
            "updateUser" => {
                let mut attrs = step.as_object().unwrap().clone();
                attrs.remove("op");
                let _ = client.update_user(attrs).await;
            }
            "verifyOtp" => {
                let params = VerifyOtp::TokenHash {
                    token_hash: step["token_hash"].as_str().unwrap().into(),
                    kind: step["type"].as_str().unwrap().into(),
                };
                let _ = client.verify_otp(params).await;
            }
            "newClient" => {
                jar = Arc::new(CookieJar::new(jar.cookies()));
                client = auth.server_client(jar.clone());
                seen_calls = 0;
            }
            other => panic!("step {other} not mapped"),
        }
        let calls = jar.set_all_calls();
        let set_all = calls[seen_calls..]
            .iter()
            .map(|c| SetAllCall {
                cookies: c
                    .cookies
                    .iter()
                    .map(|s| (s.name.clone(), s.value.clone(), s.to_header_value()))
                    .collect(),
                headers: c.headers.clone(),
            })
            .collect();
        seen_calls = calls.len();
        let recorded = server.requests();
        let requests = recorded[seen_requests..]
            .iter()
            .map(|r| {
                let headers = COMPARED_HEADERS
                    .iter()
                    .filter_map(|h| r.header(h).map(|v| ((*h).to_owned(), v.to_owned())))
                    .collect();
                let body = Some(r.body_text()).filter(|b| !b.is_empty());
                (r.method.clone(), r.target.clone(), body, headers)
            })
            .collect();
        seen_requests = recorded.len();
        out.push(Effects { set_all, requests });
    }
    out
}

fn signed_in_jar(config: &CookieConfig) -> (Vec<Cookie>, String) {
    let body = session_response(200, NOW)["body"].to_string();
    let stored = interop::sessions::stored(&body);
    (jar_for(&stored, config), stored)
}

/// A stored session whose access token expires `secs_left` seconds after [`NOW`].
fn session_expiring_in(secs_left: i64) -> String {
    let user = user_json(
        "9a7f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
        "user@example.com",
        json!({}),
    );
    let mut body = session_body(user, NOW - 3_600_000, "old");
    body["expires_at"] = json!(NOW / 1000 + secs_left);
    body.to_string()
}

fn cases() -> Vec<Case> {
    let config = CookieConfig::default();
    let (signed_in, stored) = signed_in_jar(&config);
    let big_user = json!({
        "id": "9a7f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
        "email": "user@example.com",
        "user_metadata": {"bio": "x".repeat(8000)},
    });
    let expiring = session_expiring_in(30);
    let expired = session_expiring_in(-10);
    let refreshed = session_response(100, NOW);
    let user = user_json(
        "9a7f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
        "user@example.com",
        json!({"display_name": "Zoë 😀"}),
    );
    let with_verifier = |json: &str| {
        let mut jar = jar_for(json, &config);
        jar.push(Cookie::new(
            format!("{STORAGE_KEY}-code-verifier"),
            to_base64_value("\"abc\""),
        ));
        jar
    };
    vec![
        Case {
            name: "sign in on an empty jar, then read it back",
            jar: vec![],
            responses: vec![session_response(200, NOW)],
            steps: vec![
                json!({"op": "signInWithPassword", "email": "user@example.com", "password": "hunter2"}),
                json!({"op": "getSession"}),
            ],
        },
        Case {
            name: "sign in over an existing session grows it into chunks",
            jar: signed_in.clone(),
            responses: vec![ok(json!({
                "access_token": "a.b.c", "token_type": "bearer", "expires_in": 3600,
                "refresh_token": "rt-big", "user": big_user,
            }))],
            steps: vec![
                json!({"op": "signInWithPassword", "email": "user@example.com", "password": "hunter2"}),
            ],
        },
        Case {
            name: "an expiring session is refreshed",
            jar: jar_for(&expiring, &config),
            responses: vec![refreshed],
            steps: vec![json!({"op": "getSession"})],
        },
        Case {
            name: "a rejected refresh of an expired session deletes the cookies",
            jar: with_verifier(&expired),
            responses: vec![auth_error(
                400,
                "refresh_token_already_used",
                "Invalid Refresh Token: Already Used",
            )],
            steps: vec![json!({"op": "getSession"})],
        },
        Case {
            name: "a rejected early refresh keeps the session",
            jar: jar_for(&expiring, &config),
            responses: vec![auth_error(
                400,
                "refresh_token_not_found",
                "Invalid Refresh Token: Refresh Token Not Found",
            )],
            steps: vec![json!({"op": "getSession"})],
        },
        Case {
            name: "getUser of a session the server ended deletes the cookies",
            jar: signed_in.clone(),
            responses: vec![auth_error(
                403,
                "session_not_found",
                "Session from session_id claim in JWT does not exist",
            )],
            steps: vec![json!({"op": "getUser"})],
        },
        Case {
            name: "getClaims of an HS256 token asks the server",
            jar: signed_in.clone(),
            responses: vec![ok(user.clone())],
            steps: vec![json!({"op": "getClaims"})],
        },
        Case {
            name: "updateUser stores the new user in the session",
            jar: signed_in.clone(),
            responses: vec![ok(user)],
            steps: vec![json!({"op": "updateUser", "data": {"display_name": "Zoë 😀"}})],
        },
        Case {
            name: "verifyOtp with a token hash stores the session",
            jar: vec![Cookie::new("theme", "dark")],
            responses: vec![session_response(50, NOW)],
            steps: vec![json!({"op": "verifyOtp", "token_hash": "0123abcd", "type": "email"})],
        },
        Case {
            name: "sign out locally",
            jar: with_verifier(&stored),
            responses: vec![status_only(204)],
            steps: vec![json!({"op": "signOut", "scope": "local"})],
        },
        Case {
            name: "sign out globally",
            jar: signed_in.clone(),
            responses: vec![status_only(204)],
            steps: vec![json!({"op": "signOut", "scope": "global"})],
        },
        Case {
            name: "sign out globally while Auth fails keeps the session",
            jar: signed_in.clone(),
            responses: vec![
                json!({"status": 500, "headers": {"content-type": "application/json"}, "body": {"code": 500, "msg": "boom"}}),
            ],
            steps: vec![json!({"op": "signOut", "scope": "global"})],
        },
        Case {
            name: "sign out the other sessions",
            jar: signed_in,
            responses: vec![status_only(204)],
            steps: vec![json!({"op": "signOut", "scope": "others"})],
        },
    ]
}

#[tokio::test]
async fn the_server_client_behaves_like_create_server_client() {
    let cases = cases();
    let scenarios: Vec<Value> = cases
        .iter()
        .map(|c| client_scenario(&c.jar, c.responses.clone(), c.steps.clone()))
        .collect();
    let js = run_harness(&Value::Array(scenarios));
    let js = js.as_array().unwrap();
    let mut failures = Vec::new();
    let (mut writes, mut requests) = (0, 0);
    for (case, js) in cases.iter().zip(js) {
        assert_eq!(
            js["unusedResponses"], 0,
            "{}: JS left answers unused",
            case.name
        );
        let rust = run_rust(case).await;
        writes += rust.iter().map(|e| e.set_all.len()).sum::<usize>();
        requests += rust.iter().map(|e| e.requests.len()).sum::<usize>();
        for (i, rust_step) in rust.iter().enumerate() {
            let init = (i == 0).then(|| &js["init"]);
            let js_step = js_effects(&js["steps"][i], init);
            if *rust_step != js_step {
                failures.push(format!(
                    "{} (step {i}):\n  JS:   {js_step:?}\n  Rust: {rust_step:?}",
                    case.name
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every case answered each canned request, and the cases write cookies.
    assert_eq!(
        requests,
        cases.iter().map(|c| c.responses.len()).sum::<usize>()
    );
    assert_eq!(writes, 9);
}
