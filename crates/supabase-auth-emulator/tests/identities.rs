//! Manual identity linking, unlinking and the `id_token` grant.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{Value, json};
use support::{Api, config, jwt_part, pairs, pkce_pair};

fn location(res: &support::Res) -> url::Url {
    url::Url::parse(res.header("location").unwrap()).unwrap()
}

fn param(u: &url::Url, key: &str) -> String {
    u.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn fragment(u: &url::Url, key: &str) -> String {
    pairs(u.fragment().unwrap_or(""))
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
        .unwrap_or_default()
}

/// Approves the consent page at `consent` as `email`; returns where the callback sends
/// the browser.
async fn approve(api: &Api, consent: &str, email: &str) -> url::Url {
    let consent = url::Url::parse(consent).unwrap();
    let state = param(&consent, "state");
    let form = [
        ("state", state.as_str()),
        ("redirect_uri", &api.url("/callback")),
        ("email", email),
        ("action", "approve"),
    ];
    let approved = api
        .call(support::form_post(
            &api.http,
            format!("{}/oauth-provider/authorize", api.emu.url()),
            &form,
        ))
        .await;
    assert_eq!(approved.status, 302);
    let back = api.call(api.http.get(location(&approved).as_str())).await;
    assert_eq!(back.status, 302);
    location(&back)
}

/// `linkIdentity` as auth-js calls it: the consent URL for linking to `token`'s user.
async fn link_url(api: &Api, token: &str, query: &str) -> support::Res {
    api.get_as(
        &format!("/user/identities/authorize?{query}&skip_http_redirect=true"),
        token,
    )
    .await
}

/// Signs in through the consent page (implicit flow); returns the access token.
async fn oauth_sign_in(api: &Api, provider: &str, email: &str) -> String {
    let res = api
        .get(&format!(
            "/authorize?provider={provider}&skip_http_redirect=true"
        ))
        .await;
    let app = approve(api, res.body["url"].as_str().unwrap(), email).await;
    fragment(&app, "access_token")
}

async fn password_user(api: &Api, email: &str) -> String {
    api.signup(email, "password-123").await;
    let res = api.login(email, "password-123").await;
    res.body["access_token"].as_str().unwrap().to_string()
}

async fn user(api: &Api, token: &str) -> Value {
    let res = api.get_as("/user", token).await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    res.body
}

fn providers(user: &Value) -> Vec<String> {
    user["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["provider"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn link_identity_implicit_flow() {
    let api = Api::start().await;
    let token = password_user(&api, "ann@example.com").await;
    let res = link_url(&api, &token, "provider=github").await;
    assert_eq!(res.status, 200);
    let app = approve(
        &api,
        res.body["url"].as_str().unwrap(),
        "ann-gh@example.com",
    )
    .await;
    assert_eq!(
        app.as_str().split('#').next().unwrap(),
        "http://127.0.0.1:3000/"
    );
    let linked_token = fragment(&app, "access_token");
    assert_eq!(
        jwt_part(&linked_token, 1)["amr"][0]["method"],
        json!("oauth")
    );
    let u = user(&api, &linked_token).await;
    assert_eq!(u["email"], "ann@example.com");
    assert_eq!(providers(&u), ["email", "github"]);
    assert_eq!(
        u["app_metadata"],
        json!({ "provider": "email", "providers": ["email", "github"] })
    );
    assert_eq!(u["identities"][1]["email"], "ann-gh@example.com");
    assert_eq!(u["identities"][1]["user_id"], u["id"]);

    // The same identity again: already linked, to this user.
    let res = link_url(&api, &token, "provider=github").await;
    let app = approve(
        &api,
        res.body["url"].as_str().unwrap(),
        "ann-gh@example.com",
    )
    .await;
    assert_eq!(fragment(&app, "error"), "server_error");
    assert_eq!(fragment(&app, "error_code"), "identity_already_exists");
    assert_eq!(
        fragment(&app, "error_description"),
        "Identity is already linked"
    );
}

#[tokio::test]
async fn link_identity_pkce_flow() {
    let api = Api::start().await;
    let token = password_user(&api, "bob@example.com").await;
    let (verifier, challenge) = pkce_pair();
    let res = link_url(
        &api,
        &token,
        &format!(
            "provider=google&redirect_to=http%3A%2F%2F127.0.0.1%3A3000%2Fcb&code_challenge={challenge}&code_challenge_method=s256"
        ),
    )
    .await;
    assert_eq!(res.status, 200);
    let app = approve(&api, res.body["url"].as_str().unwrap(), "bob-g@example.com").await;
    assert_eq!(app.path(), "/cb");
    let code = param(&app, "code");
    let session = api
        .post(
            "/token?grant_type=pkce",
            json!({ "auth_code": code, "code_verifier": verifier }),
        )
        .await;
    assert_eq!(session.status, 200, "{:?}", session.body);
    assert_eq!(session.body["user"]["email"], "bob@example.com");
    assert_eq!(providers(&session.body["user"]), ["email", "google"]);
}

#[tokio::test]
async fn link_refused_when_linked_to_another_user_or_disabled() {
    let api = Api::start().await;
    oauth_sign_in(&api, "github", "taken@example.com").await;
    let token = password_user(&api, "carl@example.com").await;
    let res = link_url(&api, &token, "provider=github").await;
    let app = approve(&api, res.body["url"].as_str().unwrap(), "taken@example.com").await;
    assert_eq!(fragment(&app, "error_code"), "identity_already_exists");
    assert_eq!(
        fragment(&app, "error_description"),
        "Identity is already linked to another user"
    );
    assert_eq!(providers(&user(&api, &token).await), ["email"]);

    // With only the publishable key (no user session), as `GET /user`.
    let anon_key = api
        .get("/user/identities/authorize?provider=github&skip_http_redirect=true")
        .await;
    assert_eq!(anon_key.status, 403);
    assert_eq!(anon_key.body["error_code"], "bad_jwt");

    let off = Api::with(config().manual_linking(false)).await;
    let token = password_user(&off, "dora@example.com").await;
    let res = link_url(&off, &token, "provider=github").await;
    assert_eq!(res.status, 404);
    assert_eq!(res.body["error_code"], "manual_linking_disabled");
    assert_eq!(res.body["msg"], "Manual linking is disabled");
    let id = user(&off, &token).await["identities"][0]["identity_id"].clone();
    let res = off
        .call(off.req_as(
            reqwest::Method::DELETE,
            &format!("/user/identities/{}", id.as_str().unwrap()),
            &token,
        ))
        .await;
    assert_eq!(res.status, 404);
    assert_eq!(res.body["error_code"], "manual_linking_disabled");
}

async fn unlink(api: &Api, token: &str, identity_id: &str) -> support::Res {
    api.call(api.req_as(
        reqwest::Method::DELETE,
        &format!("/user/identities/{identity_id}"),
        token,
    ))
    .await
}

#[tokio::test]
async fn unlink_rules_and_primary_email() {
    let api = Api::start().await;
    let token = password_user(&api, "eve@example.com").await;
    let u = user(&api, &token).await;
    let email_identity = u["identities"][0]["identity_id"]
        .as_str()
        .unwrap()
        .to_string();

    let last = unlink(&api, &token, &email_identity).await;
    assert_eq!(last.status, 422);
    assert_eq!(last.body["error_code"], "single_identity_not_deletable");
    assert_eq!(
        last.body["msg"],
        "User must have at least 1 identity after unlinking"
    );

    let res = link_url(&api, &token, "provider=github").await;
    approve(
        &api,
        res.body["url"].as_str().unwrap(),
        "eve-gh@example.com",
    )
    .await;

    let unknown = unlink(&api, &token, &uuid::Uuid::new_v4().to_string()).await;
    assert_eq!(unknown.status, 422);
    assert_eq!(unknown.body["error_code"], "identity_not_found");
    assert_eq!(unknown.body["msg"], "Identity doesn't exist");
    let not_uuid = unlink(&api, &token, "nope").await;
    assert_eq!(not_uuid.status, 404);
    assert_eq!(not_uuid.body["error_code"], "validation_failed");

    // Unlinking the identity the email came from moves the email to the one left.
    let ok = unlink(&api, &token, &email_identity).await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body, json!({}));
    let u = user(&api, &token).await;
    assert_eq!(u["email"], "eve-gh@example.com");
    assert_eq!(providers(&u), ["github"]);
    assert_eq!(
        u["app_metadata"],
        json!({ "provider": "github", "providers": ["github"] })
    );
    assert!(u["email_confirmed_at"].is_string());
    // The password still works, under the new email.
    assert_eq!(
        api.login("eve-gh@example.com", "password-123").await.status,
        200
    );
}

#[tokio::test]
async fn anonymous_user_becomes_permanent_by_linking() {
    let api = Api::start().await;
    let anon = api.post("/signup", json!({})).await;
    assert_eq!(anon.status, 200);
    let token = anon.body["access_token"].as_str().unwrap().to_string();
    let anon_id = anon.body["user"]["id"].clone();
    assert_eq!(anon.body["user"]["is_anonymous"], true);

    let res = link_url(&api, &token, "provider=google").await;
    let app = approve(&api, res.body["url"].as_str().unwrap(), "anon@example.com").await;
    let new_token = fragment(&app, "access_token");
    assert_eq!(jwt_part(&new_token, 1)["is_anonymous"], false);
    let u = user(&api, &new_token).await;
    assert_eq!(u["id"], anon_id);
    assert_eq!(u["is_anonymous"], false);
    assert_eq!(u["email"], "anon@example.com");
    assert!(u["email_confirmed_at"].is_string());
    assert_eq!(u["user_metadata"]["email_verified"], true);
    assert_eq!(
        u["app_metadata"],
        json!({ "provider": "google", "providers": ["google"] })
    );
}

async fn issue(api: &Api, body: Value) -> String {
    let res = api
        .call(
            api.http
                .post(format!("{}/oauth-provider/id_token", api.emu.url()))
                .json(&body),
        )
        .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    res.body["id_token"].as_str().unwrap().to_string()
}

fn sha256_hex(s: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn grant(api: &Api, body: Value) -> support::Res {
    api.post("/token?grant_type=id_token", body).await
}

fn oauth_error(res: &support::Res, error: &str, description: &str) {
    assert_eq!(res.status, 400, "{:?}", res.body);
    assert_eq!(
        res.body,
        json!({ "error": error, "error_description": description })
    );
}

#[tokio::test]
async fn id_token_sign_in() {
    let api = Api::start().await;
    let jwks = api
        .call(
            api.http
                .get(format!("{}/oauth-provider/jwks", api.emu.url())),
        )
        .await;
    assert_eq!(jwks.body["keys"][0]["alg"], "ES256");
    let discovery = api
        .call(api.http.get(format!(
            "{}/oauth-provider/.well-known/openid-configuration",
            api.emu.url()
        )))
        .await;
    assert_eq!(
        discovery.body["issuer"],
        format!("{}/oauth-provider", api.emu.url())
    );

    let raw_nonce = "n-0123456789";
    let token = issue(
        &api,
        json!({ "email": "Fay@Example.com", "name": "Fay", "nonce": sha256_hex(raw_nonce) }),
    )
    .await;
    let header = jwt_part(&token, 0);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["kid"], jwks.body["keys"][0]["kid"]);
    let claims = jwt_part(&token, 1);
    assert_eq!(claims["aud"], "supabase-auth-emulator");

    let res = grant(
        &api,
        json!({ "provider": "google", "id_token": token, "nonce": raw_nonce }),
    )
    .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    let u = &res.body["user"];
    assert_eq!(u["email"], "fay@example.com");
    assert!(u["email_confirmed_at"].is_string());
    assert_eq!(
        u["app_metadata"],
        json!({ "provider": "google", "providers": ["google"] })
    );
    let identity = &u["identities"][0];
    assert_eq!(identity["provider"], "google");
    assert_eq!(identity["id"], claims["sub"]);
    assert_eq!(
        identity["identity_data"],
        json!({
            "email": "fay@example.com", "email_verified": true, "full_name": "Fay",
            "iss": claims["iss"], "name": "Fay", "phone_verified": false,
            "provider_id": claims["sub"], "sub": claims["sub"]
        })
    );
    let access = res.body["access_token"].as_str().unwrap();
    assert_eq!(jwt_part(access, 1)["amr"][0]["method"], "oauth");
    assert!(res.body["refresh_token"].is_string());

    // The same Google user through the consent page is the same identity.
    let consent_token = oauth_sign_in(&api, "google", "fay@example.com").await;
    assert_eq!(jwt_part(&consent_token, 1)["sub"], u["id"]);

    // A token without nonce, and no nonce passed, is fine too.
    let plain = issue(&api, json!({ "email": "fay@example.com" })).await;
    let again = grant(&api, json!({ "provider": "google", "id_token": plain })).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["user"]["id"], u["id"]);
}

#[tokio::test]
async fn id_token_refusals() {
    let api = Api::start().await;
    let good = issue(&api, json!({ "email": "gus@example.com" })).await;

    // Bad signature: another key's signature on the same claims.
    let mut parts: Vec<&str> = good.split('.').collect();
    let other_api = Api::start().await;
    let other = issue(&other_api, json!({ "email": "gus@example.com" })).await;
    let other_sig = other.split('.').nth(2).unwrap().to_string();
    parts[2] = &other_sig;
    let forged = parts.join(".");
    let res = grant(&api, json!({ "provider": "google", "id_token": forged })).await;
    oauth_error(&res, "invalid request", "Bad ID token");
    // A token of another emulator has another issuer.
    let res = grant(&api, json!({ "provider": "google", "id_token": other })).await;
    oauth_error(&res, "invalid request", "Bad ID token");

    let expired = issue(
        &api,
        json!({ "email": "gus@example.com", "expires_in": -5 }),
    )
    .await;
    let res = grant(&api, json!({ "provider": "google", "id_token": expired })).await;
    oauth_error(&res, "invalid request", "Bad ID token");

    let wrong_aud = issue(
        &api,
        json!({ "email": "gus@example.com", "aud": "someone-else" }),
    )
    .await;
    let res = grant(&api, json!({ "provider": "google", "id_token": wrong_aud })).await;
    oauth_error(
        &res,
        "invalid request",
        "Unacceptable audience in id_token: [someone-else]",
    );

    let with_nonce = issue(
        &api,
        json!({ "email": "gus@example.com", "nonce": sha256_hex("right") }),
    )
    .await;
    let res = grant(
        &api,
        json!({ "provider": "google", "id_token": with_nonce, "nonce": "wrong" }),
    )
    .await;
    oauth_error(&res, "invalid nonce", "Nonces mismatch");
    let res = grant(
        &api,
        json!({ "provider": "google", "id_token": with_nonce }),
    )
    .await;
    oauth_error(
        &res,
        "invalid request",
        "Passed nonce and nonce in id_token should either both exist or not.",
    );
    let res = grant(
        &api,
        json!({ "provider": "google", "id_token": good, "nonce": "unexpected" }),
    )
    .await;
    oauth_error(
        &res,
        "invalid request",
        "Passed nonce and nonce in id_token should either both exist or not.",
    );

    let res = grant(&api, json!({ "provider": "google" })).await;
    oauth_error(&res, "invalid request", "id_token required");
    let res = grant(&api, json!({ "id_token": good })).await;
    oauth_error(
        &res,
        "invalid request",
        "provider or client_id and issuer required",
    );

    let res = grant(&api, json!({ "provider": "github", "id_token": good })).await;
    assert_eq!(res.status, 400);
    assert_eq!(res.body["error_code"], "validation_failed");
    assert_eq!(
        res.body["msg"],
        "Custom OIDC provider \"github\" not allowed"
    );

    let off = Api::with(config().external_provider("google", false)).await;
    let token = issue(&off, json!({ "email": "gus@example.com" })).await;
    let res = grant(&off, json!({ "provider": "google", "id_token": token })).await;
    assert_eq!(res.status, 400);
    assert_eq!(res.body["error_code"], "provider_disabled");

    // Nothing above created a user.
    let list = api
        .call(api.admin(reqwest::Method::GET, "/admin/users"))
        .await;
    assert_eq!(list.body["users"], json!([]));
}

#[tokio::test]
async fn id_token_links_to_the_signed_in_user() {
    let api = Api::start().await;
    let token = password_user(&api, "hal@example.com").await;
    let id_token = issue(
        &api,
        json!({ "provider": "apple", "email": "hal-apple@example.com" }),
    )
    .await;
    let res = api
        .post_as(
            "/token?grant_type=id_token",
            &token,
            json!({ "provider": "apple", "id_token": id_token, "link_identity": true }),
        )
        .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    assert_eq!(res.body["user"]["email"], "hal@example.com");
    assert_eq!(providers(&res.body["user"]), ["email", "apple"]);

    let res = api
        .post(
            "/token?grant_type=id_token",
            json!({ "provider": "apple", "id_token": id_token, "link_identity": true }),
        )
        .await;
    assert_eq!(res.status, 403, "{:?}", res.body);
}

#[tokio::test]
async fn enable_manual_linking_from_config_toml() {
    let cli = Api::with(supabase_auth_emulator::EmulatorConfig::supabase_cli_defaults()).await;
    let token = password_user(&cli, "ivy@example.com").await;
    let res = link_url(&cli, &token, "provider=github").await;
    assert_eq!(res.body["error_code"], "manual_linking_disabled");

    let cfg = supabase_auth_emulator::EmulatorConfig::from_supabase_config(
        "[auth]\nenable_manual_linking = true\n[auth.external.github]\nenabled = true\n",
    )
    .unwrap();
    let on = Api::with(cfg).await;
    let token = password_user(&on, "ivy@example.com").await;
    let res = link_url(&on, &token, "provider=github").await;
    assert_eq!(res.status, 200, "{:?}", res.body);
}

#[tokio::test]
async fn unlink_refused_when_the_next_email_belongs_to_another_user() {
    let api = Api::start().await;
    let token = password_user(&api, "joy@example.com").await;
    let email_identity = user(&api, &token).await["identities"][0]["identity_id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = link_url(&api, &token, "provider=gitlab").await;
    approve(&api, res.body["url"].as_str().unwrap(), "kim@example.com").await;
    // Someone else signs up with the linked identity's address.
    password_user(&api, "kim@example.com").await;

    let res = unlink(&api, &token, &email_identity).await;
    assert_eq!(res.status, 422);
    assert_eq!(
        res.body["error_code"],
        "email_conflict_identity_not_deletable"
    );
    assert_eq!(
        res.body["msg"],
        "Unable to unlink identity due to email conflict"
    );
    let u = user(&api, &token).await;
    assert_eq!(u["email"], "joy@example.com");
    assert_eq!(providers(&u), ["email", "gitlab"]);
}
