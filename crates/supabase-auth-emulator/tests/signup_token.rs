//! Signup, password grant, anonymous sign-in, and the error shapes.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::json;
use support::{Api, jwt_part};

#[tokio::test]
async fn signup_with_autoconfirm_returns_a_session_with_the_real_shape() {
    let api = Api::start().await;
    let s = api
        .post("/signup", json!({ "email": "Ann@Example.com", "password": "secret123", "data": { "plan": "pro" } }))
        .await;
    assert_eq!(s.status, 200);
    let b = &s.body;
    let keys: Vec<&str> = b.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "access_token",
            "token_type",
            "expires_in",
            "expires_at",
            "refresh_token",
            "user"
        ]
    );
    assert_eq!(b["token_type"], "bearer");
    assert_eq!(b["expires_in"], 3600);
    let rt = b["refresh_token"].as_str().unwrap();
    assert_eq!(rt.len(), 12);
    assert!(
        rt.bytes()
            .all(|c| c.is_ascii_lowercase() || (b'2'..=b'7').contains(&c))
    );

    let user = &b["user"];
    let id = user["id"].as_str().unwrap();
    assert_eq!(user["email"], "ann@example.com");
    assert_eq!(user["aud"], "authenticated");
    assert_eq!(user["role"], "authenticated");
    assert_eq!(user["phone"], "");
    assert_eq!(user["is_anonymous"], false);
    assert_eq!(
        user["app_metadata"],
        json!({ "provider": "email", "providers": ["email"] })
    );
    assert_eq!(
        user["user_metadata"],
        json!({ "email": "ann@example.com", "email_verified": true, "phone_verified": false, "plan": "pro", "sub": id })
    );
    assert!(user["email_confirmed_at"].is_string());
    assert!(
        user.get("confirmed_at").is_none(),
        "GoTrue's autoconfirm signup response has no confirmed_at"
    );
    let identity = &user["identities"][0];
    assert_eq!(identity["provider"], "email");
    assert_eq!(identity["id"], id);
    assert_eq!(identity["user_id"], id);
    assert_eq!(identity["email"], "ann@example.com");
    assert_eq!(identity["identity_data"]["email_verified"], false);

    let header = jwt_part(b["access_token"].as_str().unwrap(), 0);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["kid"].as_str(), api.emu.signing_kid().as_deref());
    let claims = jwt_part(b["access_token"].as_str().unwrap(), 1);
    let names: Vec<&str> = claims
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        names,
        [
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "email",
            "phone",
            "app_metadata",
            "user_metadata",
            "role",
            "aal",
            "amr",
            "session_id",
            "is_anonymous"
        ]
    );
    assert_eq!(claims["iss"], api.emu.auth_url());
    assert_eq!(claims["sub"], id);
    assert_eq!(claims["aud"], "authenticated");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    assert_eq!(claims["exp"], b["expires_at"]);
    assert_eq!(claims["role"], "authenticated");
    assert_eq!(claims["aal"], "aal1");
    assert_eq!(claims["amr"][0]["method"], "password");
    assert_eq!(claims["amr"][0]["timestamp"], claims["iat"]);
    assert_eq!(claims["is_anonymous"], false);
}

#[tokio::test]
async fn password_grant_success_and_failures() {
    let api = Api::start().await;
    api.signup("bob@example.com", "secret123").await;

    let ok = api.login("BOB@example.com", "secret123").await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body["weak_password"], serde_json::Value::Null);
    assert!(ok.body.as_object().unwrap().contains_key("weak_password"));
    assert!(ok.body["user"]["confirmed_at"].is_string());
    assert!(ok.body["user"]["last_sign_in_at"].is_string());
    assert_eq!(
        jwt_part(ok.body["access_token"].as_str().unwrap(), 1)["amr"][0]["method"],
        "password"
    );

    let wrong = api.login("bob@example.com", "nope-nope").await;
    assert_eq!(wrong.status, 400);
    assert_eq!(
        wrong.body,
        json!({ "code": 400, "error_code": "invalid_credentials", "msg": "Invalid login credentials" })
    );
    assert_eq!(wrong.header("x-sb-error-code"), Some("invalid_credentials"));
    assert_eq!(wrong.header("x-supabase-api-version"), None);

    let unknown = api
        .call(
            api.req(reqwest::Method::POST, "/token?grant_type=password")
                .header("X-Supabase-Api-Version", "2024-01-01")
                .json(&json!({ "email": "nobody@example.com", "password": "secret123" })),
        )
        .await;
    assert_eq!(unknown.status, 400);
    assert_eq!(
        unknown.body,
        json!({ "code": "invalid_credentials", "message": "Invalid login credentials" })
    );
    assert_eq!(unknown.header("x-supabase-api-version"), Some("2024-01-01"));

    let neither = api
        .post("/token?grant_type=password", json!({ "password": "x" }))
        .await;
    assert_eq!(
        (neither.status, neither.body["msg"].as_str()),
        (400, Some("missing email or phone"))
    );
    let grant = api.post("/token?grant_type=nope", json!({})).await;
    assert_eq!(
        grant.body,
        json!({ "code": 400, "error_code": "invalid_credentials", "msg": "unsupported_grant_type" })
    );
}

#[tokio::test]
async fn signup_errors() {
    let api = Api::start().await;
    api.signup("dup@example.com", "secret123").await;
    let dup = api
        .post(
            "/signup",
            json!({ "email": "dup@example.com", "password": "secret123" }),
        )
        .await;
    assert_eq!(dup.status, 422);
    assert_eq!(dup.body["error_code"], "user_already_exists");
    assert_eq!(dup.body["msg"], "User already registered");

    let weak = api
        .post(
            "/signup",
            json!({ "email": "w@example.com", "password": "abc" }),
        )
        .await;
    assert_eq!(weak.status, 422);
    assert_eq!(
        weak.body,
        json!({ "code": 422, "error_code": "weak_password", "msg": "Password should be at least 6 characters.",
                "weak_password": { "reasons": ["length"] } })
    );
    let no_pw = api
        .post("/signup", json!({ "email": "w@example.com" }))
        .await;
    assert_eq!(
        (no_pw.status, no_pw.body["msg"].as_str()),
        (400, Some("Signup requires a valid password"))
    );
    let bad_email = api
        .post(
            "/signup",
            json!({ "email": "not-an-email", "password": "secret123" }),
        )
        .await;
    assert_eq!(bad_email.status, 400);
    assert_eq!(bad_email.body["error_code"], "validation_failed");
    let pkce = api
        .post("/signup", json!({ "email": "p@example.com", "password": "secret123", "code_challenge": "short", "code_challenge_method": "s256" }))
        .await;
    assert_eq!(
        pkce.body["msg"],
        "code challenge has to be between 43 and 128 characters"
    );
}

#[tokio::test]
async fn confirmed_duplicate_without_autoconfirm_gets_an_obfuscated_user() {
    let api = Api::with(support::config().autoconfirm(false)).await;
    api.emu
        .create_user("taken@example.com", "secret123")
        .await
        .unwrap();
    let res = api
        .post(
            "/signup",
            json!({ "email": "taken@example.com", "password": "other-pass", "data": { "a": 1 } }),
        )
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["identities"], json!([]));
    assert_eq!(res.body["role"], "");
    assert_eq!(res.body["user_metadata"], json!({ "a": 1 }));
    assert!(res.body.get("email_confirmed_at").is_none());
    assert!(api.emu.inbox().is_empty());
}

#[tokio::test]
async fn anonymous_sign_in() {
    let api = Api::start().await;
    let res = api
        .post(
            "/signup",
            json!({ "data": { "theme": "dark" }, "gotrue_meta_security": {} }),
        )
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["user"]["is_anonymous"], true);
    assert_eq!(res.body["user"]["email"], "");
    assert_eq!(res.body["user"]["app_metadata"], json!({}));
    assert_eq!(
        res.body["user"]["user_metadata"],
        json!({ "theme": "dark" })
    );
    assert_eq!(res.body["user"]["identities"], json!([]));
    let claims = jwt_part(res.body["access_token"].as_str().unwrap(), 1);
    assert_eq!(claims["is_anonymous"], true);
    assert_eq!(claims["amr"][0]["method"], "anonymous");

    let off = Api::with(support::config().anonymous_sign_ins(false)).await;
    let res = off.post("/signup", json!({})).await;
    assert_eq!(
        (res.status, res.body["error_code"].as_str()),
        (422, Some("anonymous_provider_disabled"))
    );
}

#[tokio::test]
async fn malformed_bodies_get_4xx_never_5xx() {
    let api = Api::start().await;
    let bad = api
        .call(api.req(reqwest::Method::POST, "/signup").body("{not json"))
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["error_code"], "bad_json");
    assert!(
        bad.body["msg"]
            .as_str()
            .unwrap()
            .starts_with("Could not parse request body as JSON: ")
    );

    let wrong_type = api
        .post("/signup", json!({ "email": 42, "password": "secret123" }))
        .await;
    assert_eq!(
        (wrong_type.status, wrong_type.body["error_code"].as_str()),
        (400, Some("bad_json"))
    );

    let empty = api
        .call(api.req(reqwest::Method::POST, "/token?grant_type=password"))
        .await;
    assert_eq!(
        (empty.status, empty.body["error_code"].as_str()),
        (400, Some("bad_json"))
    );

    let big = format!("{{\"email\":\"{}\"}}", "a".repeat(1 << 20));
    let too_large = api
        .call(api.req(reqwest::Method::POST, "/signup").body(big))
        .await;
    assert_eq!(too_large.status, 413);
    assert_eq!(
        too_large.body,
        json!({ "code": 413, "error_code": "request_entity_too_large", "msg": "Request body too large (max 1048576 bytes)" })
    );

    let nulls = api
        .post(
            "/token?grant_type=password",
            json!({ "email": null, "password": null }),
        )
        .await;
    assert_eq!(nulls.status, 400);
    let unicode = api
        .post(
            "/signup",
            json!({ "email": "ü@例え.テスト", "password": "sécret✓✓" }),
        )
        .await;
    assert!(unicode.status < 500, "{unicode:?}");
    let bearer = api.get_as("/user", "not.a.jwt").await;
    assert_eq!(
        (bearer.status, bearer.body["error_code"].as_str()),
        (403, Some("bad_jwt"))
    );
    let unknown = api.get("/nope").await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn gateway_requires_a_known_api_key_except_on_open_routes() {
    let api = Api::start().await;
    let none = api.call(api.http.get(api.url("/health"))).await;
    assert_eq!(none.status, 401);
    assert_eq!(none.body["message"], "No API key found in request");
    let bad = api
        .call(
            api.http
                .get(api.url("/health"))
                .header("apikey", "sb_publishable_wrong"),
        )
        .await;
    assert_eq!(
        (bad.status, bad.body["message"].as_str()),
        (401, Some("Invalid API key"))
    );
    let query = api
        .call(api.http.get(format!(
            "{}?apikey={}",
            api.url("/health"),
            api.emu.anon_key()
        )))
        .await;
    assert_eq!(query.status, 200);
    assert_eq!(query.body["name"], "GoTrue");
    let jwks = api
        .call(api.http.get(api.url("/.well-known/jwks.json")))
        .await;
    assert_eq!(jwks.status, 200);
    assert_eq!(jwks.header("cache-control"), Some("public, max-age=600"));
    let settings = api.get("/settings").await;
    assert_eq!(settings.body["mailer_autoconfirm"], true);
    assert_eq!(settings.body["external"]["email"], true);
    assert_eq!(settings.body["external"]["github"], true);

    let open = Api::with(support::config().require_api_key(false)).await;
    assert_eq!(
        open.call(open.http.get(open.url("/health"))).await.status,
        200
    );
}

#[tokio::test]
async fn cors_preflight_is_answered() {
    let api = Api::start().await;
    let res = api
        .call(
            api.http
                .request(reqwest::Method::OPTIONS, api.url("/token"))
                .header("origin", "http://localhost:3000")
                .header(
                    "access-control-request-headers",
                    "apikey, authorization, x-client-info",
                ),
        )
        .await;
    assert_eq!(res.status, 204);
    assert_eq!(
        res.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    assert_eq!(
        res.header("access-control-allow-headers"),
        Some("apikey, authorization, x-client-info")
    );
}
