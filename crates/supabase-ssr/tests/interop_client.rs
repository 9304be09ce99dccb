//! The Rust `ServerClient` and the official `createServerClient` run the same scenarios
//! against the same canned Auth answers: every `set_all` call (names, values, the
//! Set-Cookie bytes, the cache headers), every HTTP request (method, path, query,
//! body, headers) and what every `getSession` gives (its access token and user) must
//! be equal. Each scenario runs with the default cookie contents and, where marked,
//! with tokens-only cookies (`cookies: { encode: "tokens-only" }`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod interop;
mod support;

use std::sync::Arc;

use interop::sessions::jar_for;
use interop::{
    KEY, NOW, Request, STORAGE_KEY, SetAllCall, auth_error, client_scenario, compared_headers, ok,
    requests_of, run_harness, session_body, session_response, set_all_calls, status_only,
    user_json,
};
use serde_json::{Value, json};
use supabase_ssr::adapter::codec::to_base64_value;
use supabase_ssr::clock::ManualClock;
use supabase_ssr::cookies::{Cookie, CookieConfig, CookieContents, CookieJar};
use supabase_ssr::mfa::EnrollTotp;
use supabase_ssr::{SignOutScope, SupabaseAuth, VerifyOtp};
use support::{Reply, TestServer};

/// A scenario: the browser's cookies, the Auth answers in order, the calls.
struct Case {
    name: &'static str,
    contents: CookieContents,
    jar: Vec<Cookie>,
    responses: Vec<Value>,
    steps: Vec<Value>,
}

impl Case {
    /// The scenario for the JS harness.
    fn scenario(&self) -> Value {
        let mut scenario = client_scenario(&self.jar, self.responses.clone(), self.steps.clone());
        if self.contents == CookieContents::TokensOnly {
            scenario["cookies"] = json!({ "encode": "tokens-only" });
        }
        scenario
    }
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

/// What one step did: its `set_all` calls and its requests, and for `getSession` what
/// it gave: `null` (no session), `"error"`, or `{access_token, user}` with `user` null
/// when the session has none.
#[derive(Debug, PartialEq)]
struct Effects {
    set_all: Vec<SetAllCall>,
    requests: Vec<Sent>,
    session: Option<Value>,
}

/// What a JS `getSession` step gave, in the shape of [`Effects::session`]. A user that
/// auth-js cannot give (the proxy that throws on every access, under tokens-only
/// cookies) makes `JSON.stringify(session)` fail: that reads as no user.
fn js_session(step: &Value) -> Option<Value> {
    if step["op"] != "getSession" {
        return None;
    }
    let result = &step["result"];
    if !result["error"].is_null() {
        return Some(json!("error"));
    }
    let session = &result["data"]["session"];
    if session.is_null() {
        return Some(Value::Null);
    }
    let text = step["sessionJson"].as_str().unwrap();
    let user = if text.starts_with("<unavailable") {
        Value::Null
    } else {
        serde_json::from_str::<Value>(text).unwrap()["user"].clone()
    };
    Some(json!({ "access_token": session["access_token"], "user": user }))
}

fn js_effects(record: &Value, init: Option<&Value>) -> Effects {
    let session = js_session(record);
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
                let headers = r.compared_headers();
                (r.method, path, r.body.filter(|b| !b.is_empty()), headers)
            })
            .collect(),
        session,
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
        .cookie_contents(case.contents)
        .build()
        .unwrap();
    let mut jar = Arc::new(CookieJar::new(case.jar.clone()));
    let mut client = auth.server_client(jar.clone());
    let mut seen_calls = 0;
    let mut seen_requests = 0;
    let mut out = Vec::new();
    for step in &case.steps {
        let op = step["op"].as_str().unwrap();
        let mut session = None;
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
                session = Some(match client.get_session().await {
                    Ok(Some(s)) => json!({
                        "access_token": s.access_token(),
                        "user": s.user().map(|u| Value::Object(u.into_json())),
                    }),
                    Ok(None) => Value::Null,
                    // A rejected refresh of an expired session: JS refreshed while the
                    // client was built, so its getSession finds no session; Rust refreshes
                    // on this call and says why. Both delete the cookies (compared above).
                    Err(e) if !e.is_transient() => Value::Null,
                    Err(_) => json!("error"),
                });
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
            "mfaEnroll" => {
                let mut params = EnrollTotp::default();
                if let Some(name) = step["friendlyName"].as_str() {
                    params = params.friendly_name(name);
                }
                if let Some(issuer) = step["issuer"].as_str() {
                    params = params.issuer(issuer);
                }
                let _ = client.mfa().enroll_totp(params).await;
            }
            "mfaChallenge" => {
                let _ = client
                    .mfa()
                    .challenge(step["factorId"].as_str().unwrap())
                    .await;
            }
            "mfaVerify" => {
                let _ = client
                    .mfa()
                    .verify(
                        step["factorId"].as_str().unwrap(),
                        step["challengeId"].as_str().unwrap(),
                        step["code"].as_str().unwrap(),
                    )
                    .await;
            }
            "mfaChallengeAndVerify" => {
                let _ = client
                    .mfa()
                    .challenge_and_verify(
                        step["factorId"].as_str().unwrap(),
                        step["code"].as_str().unwrap(),
                    )
                    .await;
            }
            "mfaUnenroll" => {
                let _ = client
                    .mfa()
                    .unenroll(step["factorId"].as_str().unwrap())
                    .await;
            }
            "mfaListFactors" => {
                let _ = client.mfa().list_factors().await;
            }
            "newClient" => {
                jar = Arc::new(CookieJar::new(jar.cookies()));
                client = auth.server_client(jar.clone());
                seen_calls = 0;
            }
            other => panic!("step {other} not mapped"),
        }
        let calls = jar.set_all_calls();
        let set_all = calls[seen_calls..].iter().map(SetAllCall::from).collect();
        seen_calls = calls.len();
        let recorded = server.requests();
        let requests = recorded[seen_requests..]
            .iter()
            .map(|r| {
                let headers = compared_headers(|h| r.header(h));
                let body = Some(r.body_text()).filter(|b| !b.is_empty());
                (r.method.clone(), r.target.clone(), body, headers)
            })
            .collect();
        seen_requests = recorded.len();
        out.push(Effects {
            set_all,
            requests,
            session,
        });
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

/// `json` without its `user`: a session as tokens-only cookies store it (the bodies
/// here hold only numbers `serde_json` writes as `JSON.stringify` does).
fn tokens_only(json: &str) -> String {
    let mut map: serde_json::Map<String, Value> = serde_json::from_str(json).unwrap();
    map.shift_remove("user");
    Value::Object(map).to_string()
}

/// The split-out user cookie (`<key>-user`) a tokens-only browser client may leave.
fn user_cookie() -> Cookie {
    Cookie::new(
        format!("{STORAGE_KEY}-user"),
        to_base64_value(r#"{"user":{"id":"9a7f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"}}"#),
    )
}

/// The same calls with tokens-only cookies: the cookie drops the user, which
/// `getSession` gives only after this client got it from the Auth server.
fn tokens_only_cases() -> Vec<Case> {
    let config = CookieConfig::default();
    let (signed_in, stored) = signed_in_jar(&config);
    let lean = jar_for(&tokens_only(&stored), &config);
    let big_user = json!({
        "id": "9a7f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
        "email": "user@example.com",
        "user_metadata": {"bio": "x".repeat(8000)},
    });
    let user = user_json(
        "9a7f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
        "user@example.com",
        json!({"display_name": "Zoë 😀"}),
    );
    let with = |mut jar: Vec<Cookie>, extra: Vec<Cookie>| {
        jar.extend(extra);
        jar
    };
    let verifier = Cookie::new(
        format!("{STORAGE_KEY}-code-verifier"),
        to_base64_value("\"abc\""),
    );
    let case = |name, jar, responses, steps| Case {
        name,
        contents: CookieContents::TokensOnly,
        jar,
        responses,
        steps,
    };
    vec![
        case(
            "tokens only: sign in, read it back, then read it in the next request",
            vec![],
            vec![session_response(200, NOW)],
            vec![
                json!({"op": "signInWithPassword", "email": "user@example.com", "password": "hunter2"}),
                json!({"op": "getSession"}),
                json!({"op": "newClient"}),
                json!({"op": "getSession"}),
            ],
        ),
        case(
            "tokens only: a large user stays out of the cookie written over a default one",
            signed_in.clone(),
            vec![ok(json!({
                "access_token": "a.b.c", "token_type": "bearer", "expires_in": 3600,
                "refresh_token": "rt-big", "user": big_user,
            }))],
            vec![
                json!({"op": "getSession"}),
                json!({"op": "signInWithPassword", "email": "user@example.com", "password": "hunter2"}),
                json!({"op": "getSession"}),
            ],
        ),
        case(
            "tokens only: an expiring session is refreshed and its user kept for the request",
            jar_for(&tokens_only(&session_expiring_in(30)), &config),
            vec![session_response(100, NOW)],
            vec![json!({"op": "getSession"}), json!({"op": "getSession"})],
        ),
        case(
            "tokens only: a rejected refresh of an expired session deletes every cookie",
            with(
                jar_for(&tokens_only(&session_expiring_in(-10)), &config),
                vec![user_cookie()],
            ),
            vec![auth_error(
                400,
                "refresh_token_already_used",
                "Invalid Refresh Token: Already Used",
            )],
            vec![json!({"op": "getSession"})],
        ),
        case(
            "tokens only: getClaims and getUser are unaffected",
            lean.clone(),
            vec![ok(user.clone()), ok(user.clone())],
            vec![
                json!({"op": "getClaims"}),
                json!({"op": "getUser"}),
                json!({"op": "getSession"}),
            ],
        ),
        case(
            "tokens only: updateUser writes no cookie and keeps the new user for the request",
            lean.clone(),
            vec![ok(user.clone())],
            vec![
                json!({"op": "updateUser", "data": {"display_name": "Zoë 😀"}}),
                json!({"op": "getSession"}),
            ],
        ),
        case(
            "tokens only: updateUser over a default cookie drops its user",
            signed_in,
            vec![ok(user)],
            vec![json!({"op": "updateUser", "data": {"display_name": "Zoë 😀"}})],
        ),
        case(
            "tokens only: verifyOtp stores the session",
            vec![Cookie::new("theme", "dark")],
            vec![session_response(50, NOW)],
            vec![
                json!({"op": "verifyOtp", "token_hash": "0123abcd", "type": "email"}),
                json!({"op": "getSession"}),
            ],
        ),
        case(
            "tokens only: sign out locally deletes the split-out user cookie too",
            with(lean.clone(), vec![verifier, user_cookie()]),
            vec![status_only(204)],
            vec![json!({"op": "signOut", "scope": "local"})],
        ),
        Case {
            name: "a tokens-only cookie read with the default contents has no user",
            contents: CookieContents::UserAndTokens,
            jar: lean,
            responses: vec![],
            steps: vec![json!({"op": "getSession"})],
        },
    ]
}

const FACTOR: &str = "0b8f6f3c-6a1e-4c57-9d0e-7f2a1b3c4d5e";
const CHALLENGE: &str = "5d2c9e7a-1f3b-4a6d-8e9c-0a1b2c3d4e5f";

/// The user with one TOTP factor in `status`, as GoTrue lists it.
fn user_with_factor(status: &str) -> Value {
    let mut user = user_json(
        "9a7f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
        "user@example.com",
        json!({}),
    );
    user["factors"] = json!([{
        "id": FACTOR,
        "friendly_name": "phone",
        "factor_type": "totp",
        "status": status,
        "created_at": "2027-01-15T08:00:00.000000Z",
        "updated_at": "2027-01-15T08:01:00.000000Z",
    }]);
    user
}

/// GoTrue's answer to a right code: an `aal2` session, the factor verified.
fn verified_session(tag: &str) -> Value {
    let mut body = session_body(user_with_factor("verified"), NOW, tag);
    let claims = json!({
        "iss": format!("{}/auth/v1", interop::URL),
        "sub": "9a7f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
        "aud": "authenticated",
        "exp": NOW / 1000 + 3600,
        "iat": NOW / 1000,
        "email": "user@example.com",
        "role": "authenticated",
        "aal": "aal2",
        "amr": [{"method": "totp", "timestamp": NOW / 1000}, {"method": "password", "timestamp": NOW / 1000 - 60}],
        "session_id": format!("session-{tag}"),
        "is_anonymous": false,
    });
    body["access_token"] = json!(interop::fake_jwt(&claims));
    body
}

/// Enrollment, challenges and verification, as `supabase.auth.mfa` runs them: the
/// requests, and the `aal2` session written after a right code (auth-js puts
/// `expires_at` first in it).
fn mfa_cases(contents: CookieContents) -> Vec<Case> {
    let config = CookieConfig::default();
    let (signed_in, _) = signed_in_jar(&config);
    let prefix = match contents {
        CookieContents::TokensOnly => "tokens only: ",
        _ => "",
    };
    let enrolled = ok(json!({
        "id": FACTOR,
        "type": "totp",
        "friendly_name": "phone",
        "totp": {
            "qr_code": "<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>",
            "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
            "uri": "otpauth://totp/Example:user@example.com?algorithm=SHA1&digits=6&issuer=Example&period=30&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
        },
    }));
    let challenged = ok(json!({ "id": CHALLENGE, "type": "totp", "expires_at": NOW / 1000 + 300 }));
    let case = |name: String, responses, steps| Case {
        name: Box::leak(name.into_boxed_str()),
        contents,
        jar: signed_in.clone(),
        responses,
        steps,
    };
    vec![
        case(
            format!(
                "{prefix}mfa: enroll, challenge, a wrong code, then the right one upgrades the session"
            ),
            vec![
                enrolled,
                challenged.clone(),
                auth_error(422, "mfa_verification_failed", "Invalid TOTP code entered"),
                ok(verified_session("mfa")),
            ],
            vec![
                json!({"op": "mfaEnroll", "factorType": "totp", "friendlyName": "phone", "issuer": "Example"}),
                json!({"op": "mfaChallenge", "factorId": FACTOR}),
                json!({"op": "mfaVerify", "factorId": FACTOR, "challengeId": CHALLENGE, "code": "000000"}),
                json!({"op": "mfaVerify", "factorId": FACTOR, "challengeId": CHALLENGE, "code": "123456"}),
                json!({"op": "getSession"}),
            ],
        ),
        case(
            format!(
                "{prefix}mfa: challenge and verify over an answer without expires_at, then unenroll"
            ),
            vec![
                challenged,
                ok(interop::without_expires_at(verified_session("mfa2"))),
                ok(json!({ "id": FACTOR })),
            ],
            vec![
                json!({"op": "mfaChallengeAndVerify", "factorId": FACTOR, "code": "123456"}),
                json!({"op": "mfaUnenroll", "factorId": FACTOR}),
                json!({"op": "getSession"}),
            ],
        ),
        case(
            format!("{prefix}mfa: listFactors asks the server"),
            vec![ok(user_with_factor("verified"))],
            vec![json!({"op": "mfaListFactors"})],
        ),
    ]
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
            contents: CookieContents::UserAndTokens,
            jar: vec![],
            responses: vec![session_response(200, NOW)],
            steps: vec![
                json!({"op": "signInWithPassword", "email": "user@example.com", "password": "hunter2"}),
                json!({"op": "getSession"}),
            ],
        },
        Case {
            name: "sign in over an existing session grows it into chunks",
            contents: CookieContents::UserAndTokens,
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
            contents: CookieContents::UserAndTokens,
            jar: jar_for(&expiring, &config),
            responses: vec![refreshed],
            steps: vec![json!({"op": "getSession"})],
        },
        Case {
            name: "a rejected refresh of an expired session deletes the cookies",
            contents: CookieContents::UserAndTokens,
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
            contents: CookieContents::UserAndTokens,
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
            contents: CookieContents::UserAndTokens,
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
            contents: CookieContents::UserAndTokens,
            jar: signed_in.clone(),
            responses: vec![ok(user.clone())],
            steps: vec![json!({"op": "getClaims"})],
        },
        Case {
            name: "updateUser stores the new user in the session",
            contents: CookieContents::UserAndTokens,
            jar: signed_in.clone(),
            responses: vec![ok(user)],
            steps: vec![json!({"op": "updateUser", "data": {"display_name": "Zoë 😀"}})],
        },
        Case {
            name: "verifyOtp with a token hash stores the session",
            contents: CookieContents::UserAndTokens,
            jar: vec![Cookie::new("theme", "dark")],
            responses: vec![session_response(50, NOW)],
            steps: vec![json!({"op": "verifyOtp", "token_hash": "0123abcd", "type": "email"})],
        },
        Case {
            name: "sign out locally",
            contents: CookieContents::UserAndTokens,
            jar: with_verifier(&stored),
            responses: vec![status_only(204)],
            steps: vec![json!({"op": "signOut", "scope": "local"})],
        },
        Case {
            name: "sign out globally",
            contents: CookieContents::UserAndTokens,
            jar: signed_in.clone(),
            responses: vec![status_only(204)],
            steps: vec![json!({"op": "signOut", "scope": "global"})],
        },
        Case {
            name: "sign out globally while Auth fails keeps the session",
            contents: CookieContents::UserAndTokens,
            jar: signed_in.clone(),
            responses: vec![
                json!({"status": 500, "headers": {"content-type": "application/json"}, "body": {"code": 500, "msg": "boom"}}),
            ],
            steps: vec![json!({"op": "signOut", "scope": "global"})],
        },
        Case {
            name: "sign out the other sessions",
            contents: CookieContents::UserAndTokens,
            jar: signed_in,
            responses: vec![status_only(204)],
            steps: vec![json!({"op": "signOut", "scope": "others"})],
        },
    ]
}

#[tokio::test]
async fn the_server_client_behaves_like_create_server_client() {
    let cases: Vec<Case> = cases()
        .into_iter()
        .chain(tokens_only_cases())
        .chain(mfa_cases(CookieContents::UserAndTokens))
        .chain(mfa_cases(CookieContents::TokensOnly))
        .collect();
    let scenarios: Vec<Value> = cases.iter().map(Case::scenario).collect();
    let js = run_harness(&Value::Array(scenarios));
    let js = js.as_array().unwrap();
    let mut failures = Vec::new();
    let (mut writes, mut requests) = (0, 0);
    // getSession steps that gave a session with a user, and with none.
    let (mut with_user, mut without_user) = (0, 0);
    for (case, js) in cases.iter().zip(js) {
        assert_eq!(
            js["unusedResponses"], 0,
            "{}: JS left answers unused",
            case.name
        );
        let rust = run_rust(case).await;
        writes += rust.iter().map(|e| e.set_all.len()).sum::<usize>();
        requests += rust.iter().map(|e| e.requests.len()).sum::<usize>();
        for session in rust.iter().filter_map(|e| e.session.as_ref()) {
            match session.get("user") {
                Some(Value::Null) => without_user += 1,
                Some(_) => with_user += 1,
                None => {}
            }
        }
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
    assert_eq!(writes, 20);
    assert_eq!((with_user, without_user), (13, 4));
}
