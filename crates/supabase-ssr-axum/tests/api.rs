//! ApiAuthLayer: the auth modes against the emulator, through the layer in process,
//! with exact status codes, bodies and the requests made to the Auth server.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use supabase_auth_emulator::{Emulator, EmulatorConfig};
use supabase_ssr::SupabaseAuth;
use supabase_ssr::api_auth::AuthMode;
use supabase_ssr::cookies::CookieJar;
use supabase_ssr_axum::{ApiAuthLayer, ApiCaller, ApiUser, SupabaseLayer};
use support::{EMAIL, PASSWORD, builder, emulator, send};
use tower_http::cors::{Any, CorsLayer};

const SECRET: &str = "sb_secret_automations_0123456789";
const WEB_KEY: &str = "sb_publishable_web_0123456789";

/// Reports who the layer accepted.
async fn whoami(ApiCaller(caller): ApiCaller) -> Json<Value> {
    Json(json!({
        "mode": caller.mode(),
        "key": caller.key_name(),
        "sub": caller.claims().and_then(|c| c.sub.clone()),
        "role": caller.claims().and_then(|c| c.role.clone()),
    }))
}

async fn me(ApiUser(user): ApiUser) -> String {
    user.id().to_owned()
}

fn app(auth: &SupabaseAuth, modes: &[&str]) -> Router {
    let modes: Vec<AuthMode> = modes.iter().map(|m| m.parse().unwrap()).collect();
    Router::new()
        .route("/whoami", get(whoami))
        .route("/me", get(me))
        .route_layer(ApiAuthLayer::new(auth.clone(), modes))
}

fn auth_with_keys(emu: &Emulator) -> SupabaseAuth {
    builder(emu)
        .secret_key("automations", SECRET)
        .publishable_key("web", WEB_KEY)
        .build()
        .unwrap()
}

fn get_req(uri: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut req = Request::builder().uri(uri).body(Body::empty()).unwrap();
    for (name, value) in headers {
        req.headers_mut().append(
            axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    req
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// A signed-in user's access token.
async fn access_token(auth: &SupabaseAuth, email: &str, password: &str) -> String {
    let jar = Arc::new(CookieJar::default());
    let session = auth
        .server_client(jar)
        .sign_in_with_password(email, password)
        .await
        .unwrap();
    session.access_token().to_owned()
}

fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .try_into()
        .unwrap()
}

async fn status_and_body(app: &Router, req: Request<Body>) -> (StatusCode, Value) {
    let answer = send(app, req).await;
    (answer.status, answer.json())
}

fn error(code: &str, message: &str) -> Value {
    json!({ "code": code, "message": message })
}

#[tokio::test]
async fn a_valid_bearer_token_is_the_user_and_costs_one_jwks_fetch_and_no_cookie() {
    let emu = emulator().await;
    let auth = auth_with_keys(&emu);
    let token = access_token(&auth, EMAIL, PASSWORD).await;
    let sub = payload(&token)["sub"].as_str().unwrap().to_owned();
    emu.clear_requests();
    let app = app(&auth, &["user"]);
    for _ in 0..3 {
        let answer = send(
            &app,
            get_req("/whoami", &[("authorization", &bearer(&token))]),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(
            answer.json(),
            json!({ "mode": "user", "key": null, "sub": sub, "role": "authenticated" })
        );
        assert_eq!(answer.set_cookies(), Vec::<String>::new());
        assert_eq!(answer.header("cache-control"), Vec::<String>::new());
    }
    let paths: Vec<String> = emu
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(paths, ["GET /auth/v1/.well-known/jwks.json"]);
}

#[tokio::test]
async fn bad_bearer_tokens_are_401_with_the_reason_and_never_reach_the_handler() {
    let emu = emulator().await;
    let other = EmulatorConfig::default().start().await.unwrap();
    let auth = auth_with_keys(&emu);
    let token = access_token(&auth, EMAIL, PASSWORD).await;
    let claims = payload(&token);

    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let body = token.split('.').nth(1).unwrap();
    let alg_none = format!("{header}.{body}.");
    let mut expired_claims = claims.clone();
    expired_claims["exp"] = json!(now() - 10);
    let expired = emu.sign_jwt(&expired_claims).unwrap();
    // Same claims (issuer included), another project's key.
    let wrong_key = other.sign_jwt(&claims).unwrap();
    // The payload changed, the signature kept.
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut other_user = claims.clone();
    other_user["sub"] = json!("00000000-0000-0000-0000-000000000000");
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&other_user).unwrap());
    let tampered = parts.join(".");
    let mut no_sub = claims.clone();
    no_sub.as_object_mut().unwrap().remove("sub");
    let no_sub = emu.sign_jwt(&no_sub).unwrap();

    let cases: [(&str, &str); 5] = [
        (
            "not-a-jwt",
            "the bearer token was rejected: invalid JWT: malformed JWT: not three dot-separated parts",
        ),
        (
            alg_none.as_str(),
            "the bearer token was rejected: invalid JWT: JWT algorithm `none` is not accepted",
        ),
        (
            expired.as_str(),
            "the bearer token was rejected: invalid JWT: JWT has expired",
        ),
        (
            no_sub.as_str(),
            "the bearer token was rejected: invalid JWT: JWT has no sub claim",
        ),
        (
            tampered.as_str(),
            "the bearer token was rejected: invalid JWT: invalid JWT signature",
        ),
    ];
    for modes in [
        &["user"][..],
        &["user", "none"],
        &["user", "publishable", "secret:*"],
    ] {
        let app = app(&auth, modes);
        for (token, message) in &cases {
            let answer = send(
                &app,
                get_req(
                    "/whoami",
                    &[
                        ("authorization", &bearer(token)),
                        ("apikey", emu.publishable_key()),
                    ],
                ),
            )
            .await;
            assert_eq!(
                answer.status,
                StatusCode::UNAUTHORIZED,
                "{modes:?} {message}"
            );
            assert_eq!(answer.json(), error("invalid_token", message), "{modes:?}");
            assert_eq!(
                answer.header("www-authenticate"),
                [r#"Bearer error="invalid_token""#]
            );
            assert_eq!(answer.header("content-type"), ["application/json"]);
        }
        // Signed by another project's key: the kid is unknown here, so after one JWKS
        // refetch the Auth server is asked, and refuses it.
        let answer = send(
            &app,
            get_req("/whoami", &[("authorization", &bearer(&wrong_key))]),
        )
        .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{modes:?}");
        assert_eq!(answer.json()["code"], "invalid_token");
    }
}

#[tokio::test]
async fn no_credentials_are_401_missing_credentials_or_anonymous_where_allowed() {
    let emu = emulator().await;
    let auth = auth_with_keys(&emu);
    let (status, body) = status_and_body(&app(&auth, &["user"]), get_req("/whoami", &[])).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        error(
            "missing_credentials",
            "credentials required: this endpoint accepts user"
        )
    );
    let answer = send(&app(&auth, &["user"]), get_req("/whoami", &[])).await;
    assert_eq!(answer.header("www-authenticate"), ["Bearer"]);

    let anonymous = json!({ "mode": "none", "key": null, "sub": null, "role": null });
    let open = app(&auth, &["none", "user"]);
    for headers in [
        &[][..],
        &[("authorization", "Bearer ")],
        &[("authorization", "Basic dXNlcjpwYXNz")],
        // supabase-js signed out: its key in both headers.
        &[
            (
                "authorization",
                "Bearer sb_publishable_ACJWlzQHlZjBrEguHvfOxg_3BJgxAaH",
            ),
            ("apikey", "sb_publishable_ACJWlzQHlZjBrEguHvfOxg_3BJgxAaH"),
        ],
    ] {
        assert_eq!(
            status_and_body(&open, get_req("/whoami", headers)).await,
            (StatusCode::OK, anonymous.clone()),
            "{headers:?}"
        );
    }
    // `ApiUser` on an anonymous caller.
    let (status, body) = status_and_body(&open, get_req("/me", &[])).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        error("missing_credentials", "a signed-in user is required")
    );
    // Two Authorization headers are refused, even where anybody may come in.
    let (status, body) = status_and_body(
        &open,
        get_req(
            "/whoami",
            &[("authorization", "Bearer a"), ("authorization", "Bearer b")],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        error(
            "invalid_token",
            "the Authorization header cannot be read: more than one Authorization header"
        )
    );
}

#[tokio::test]
async fn a_legacy_anon_key_sent_as_the_bearer_token_is_a_key_not_a_user() {
    let emu = emulator().await;
    let auth = SupabaseAuth::builder(emu.url(), emu.anon_key())
        .build()
        .unwrap();
    let app = app(&auth, &["user", "publishable"]);
    let (status, body) = status_and_body(
        &app,
        get_req(
            "/whoami",
            &[
                ("authorization", &bearer(emu.anon_key())),
                ("apikey", emu.anon_key()),
            ],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({ "mode": "publishable", "key": "default", "sub": null, "role": null })
    );
}

#[tokio::test]
async fn api_keys_match_by_kind_and_name_and_a_wrong_key_is_401_invalid_api_key() {
    let emu = emulator().await;
    let auth = auth_with_keys(&emu);
    let who =
        |mode: &str, key: &str| json!({ "mode": mode, "key": key, "sub": null, "role": null });
    let cases: [(&[&str], &str, StatusCode, Value); 9] = [
        (
            &["publishable"],
            emu.publishable_key(),
            StatusCode::OK,
            who("publishable", "default"),
        ),
        (
            &["publishable"],
            WEB_KEY,
            StatusCode::UNAUTHORIZED,
            error(
                "invalid_api_key",
                "the apikey header matches none of the keys this endpoint accepts",
            ),
        ),
        (
            &["publishable:web"],
            WEB_KEY,
            StatusCode::OK,
            who("publishable", "web"),
        ),
        (
            &["publishable:*"],
            WEB_KEY,
            StatusCode::OK,
            who("publishable", "web"),
        ),
        (
            &["secret:automations"],
            SECRET,
            StatusCode::OK,
            who("secret", "automations"),
        ),
        (
            &["secret:*"],
            SECRET,
            StatusCode::OK,
            who("secret", "automations"),
        ),
        // A publishable key never passes for a secret one.
        (
            &["secret:*"],
            emu.publishable_key(),
            StatusCode::UNAUTHORIZED,
            error(
                "invalid_api_key",
                "the apikey header matches none of the keys this endpoint accepts",
            ),
        ),
        (
            &["secret:*", "publishable"],
            emu.publishable_key(),
            StatusCode::OK,
            who("publishable", "default"),
        ),
        // A wrong key falls through to `none`, as in @supabase/server.
        (
            &["secret:*", "none"],
            "sb_secret_wrong",
            StatusCode::OK,
            json!({ "mode": "none", "key": null, "sub": null, "role": null }),
        ),
    ];
    for (modes, key, status, body) in cases {
        let got = status_and_body(&app(&auth, modes), get_req("/whoami", &[("apikey", key)])).await;
        assert_eq!(got, (status, body), "{modes:?}");
    }
    // A bearer token is ignored where `user` is not allowed.
    let got = status_and_body(
        &app(&auth, &["secret:*"]),
        get_req(
            "/whoami",
            &[("apikey", SECRET), ("authorization", "Bearer garbage")],
        ),
    )
    .await;
    assert_eq!(got, (StatusCode::OK, who("secret", "automations")));
}

#[tokio::test]
async fn a_mode_the_server_cannot_check_is_a_500() {
    let emu = emulator().await;
    let auth = support::auth(&emu);
    for (modes, message) in [
        (
            &["secret"][..],
            "the server cannot check the auth mode `secret`",
        ),
        (
            &["publishable:web"],
            "the server cannot check the auth mode `publishable:web`",
        ),
        (
            &["session"],
            "the server cannot check the auth mode `session`",
        ),
    ] {
        let got = status_and_body(
            &app(&auth, modes),
            get_req("/whoami", &[("apikey", emu.publishable_key())]),
        )
        .await;
        assert_eq!(
            got,
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                error("server_misconfigured", message)
            )
        );
    }
}

#[tokio::test]
async fn a_route_taking_cookies_and_bearer_tokens_prefers_the_header_and_never_downgrades() {
    let emu = emulator().await;
    emu.create_user("bob@example.com", "bob-password-1")
        .await
        .unwrap();
    let auth = support::auth(&emu);
    let ada_cookies = support::signed_in_cookies(&auth).await;
    let cookie = support::header_of(&ada_cookies);
    let bob = access_token(&auth, "bob@example.com", "bob-password-1").await;
    let ada_sub = payload(&access_token(&auth, EMAIL, PASSWORD).await)["sub"].clone();
    let bob_sub = payload(&bob)["sub"].clone();

    let app = app(&auth, &["user", "session", "none"]).layer(SupabaseLayer::new(auth.clone()));
    let ask = |headers: Vec<(&'static str, String)>| {
        let mut req = get_req("/whoami", &[]);
        for (name, value) in headers {
            req.headers_mut()
                .append(name, HeaderValue::from_str(&value).unwrap());
        }
        send(&app, req)
    };
    let body = ask(vec![("cookie", cookie.clone())]).await.json();
    assert_eq!(
        body,
        json!({ "mode": "session", "key": null, "sub": ada_sub, "role": "authenticated" })
    );
    let body = ask(vec![
        ("cookie", cookie.clone()),
        ("authorization", bearer(&bob)),
    ])
    .await
    .json();
    assert_eq!(
        body,
        json!({ "mode": "user", "key": null, "sub": bob_sub, "role": "authenticated" })
    );
    let answer = ask(vec![
        ("cookie", cookie.clone()),
        ("authorization", bearer("garbage")),
    ])
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.json()["code"], "invalid_token");
    let body = ask(vec![]).await.json();
    assert_eq!(body["mode"], "none");
}

#[tokio::test]
async fn when_the_signing_keys_cannot_be_fetched_a_token_is_503_not_401() {
    let emu = emulator().await;
    let auth = builder(&emu)
        .retry_budget(Duration::from_millis(300))
        .build()
        .unwrap();
    let token = access_token(&auth, EMAIL, PASSWORD).await;
    emu.faults().jwks_outage(true);
    let got = status_and_body(
        &app(&auth, &["user", "none"]),
        get_req("/whoami", &[("authorization", &bearer(&token))]),
    )
    .await;
    assert_eq!(got.0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(got.1["code"], "auth_unavailable");
    emu.faults().clear();
}

#[tokio::test]
async fn cors_preflights_pass_and_errors_carry_cors_headers() {
    let emu = emulator().await;
    let auth = support::auth(&emu);
    let app = app(&auth, &["user"]).layer(
        CorsLayer::new()
            .allow_origin(Any)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers(Any),
    );
    let preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri("/whoami")
        .header("origin", "https://app.example")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization,apikey")
        .body(Body::empty())
        .unwrap();
    let answer = send(&app, preflight).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header("access-control-allow-origin"), ["*"]);
    assert_eq!(answer.header("access-control-allow-methods"), ["GET,POST"]);

    let refused = get_req("/whoami", &[("origin", "https://app.example")]);
    let answer = send(&app, refused).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.header("access-control-allow-origin"), ["*"]);
    assert_eq!(answer.json()["code"], "missing_credentials");
}

#[tokio::test]
async fn a_token_with_another_role_is_a_verified_user_for_the_api_layer() {
    // Refusing roles other than authenticated/anon is the database's business (see
    // supabase-ssr-postgres); the API layer reports the verified claims as they are.
    let emu = emulator().await;
    let auth = support::auth(&emu);
    let token = access_token(&auth, EMAIL, PASSWORD).await;
    let mut claims = payload(&token);
    claims["role"] = json!("service_role");
    let service = emu.sign_jwt(&claims).unwrap();
    let got = status_and_body(
        &app(&auth, &["user"]),
        get_req("/whoami", &[("authorization", &bearer(&service))]),
    )
    .await;
    assert_eq!(got.0, StatusCode::OK);
    assert_eq!(got.1["role"], "service_role");
}
