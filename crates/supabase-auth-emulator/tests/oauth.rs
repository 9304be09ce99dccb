//! OAuth through the built-in local provider.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::json;
use support::{Api, jwt_part, pairs, pkce_pair};

fn location(res: &support::Res) -> url::Url {
    url::Url::parse(res.header("location").unwrap()).unwrap()
}

fn param(u: &url::Url, key: &str) -> String {
    u.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn pkce_oauth_round_trip() {
    let api = Api::start().await;
    let (verifier, challenge) = pkce_pair();
    let authorize = format!(
        "{}?provider=github&redirect_to={}&code_challenge={challenge}&code_challenge_method=s256&login_hint=octo%40example.com",
        api.url("/authorize"),
        "http%3A%2F%2F127.0.0.1%3A3000%2Fauth%2Fcallback"
    );
    let res = api.call(api.http.get(&authorize)).await;
    assert_eq!(res.status, 302);
    let consent = location(&res);
    assert_eq!(consent.path(), "/oauth-provider/authorize");
    assert_eq!(param(&consent, "redirect_uri"), api.url("/callback"));
    assert_eq!(param(&consent, "login_hint"), "octo@example.com");
    let state = param(&consent, "state");
    assert!(uuid::Uuid::parse_str(&state).is_ok());

    let page = api
        .http
        .get(consent.as_str())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Sign in with Github") && page.contains("value=\"octo@example.com\""));

    let form = [
        ("state", state.as_str()),
        ("redirect_uri", &api.url("/callback")),
        ("email", "octo@example.com"),
        ("name", "Octo Cat"),
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
    let callback = location(&approved);
    assert_eq!(callback.path(), "/auth/v1/callback");
    let back = api.call(api.http.get(callback.as_str())).await;
    assert_eq!(back.status, 302);
    let app = location(&back);
    assert_eq!(
        app.as_str().split('?').next().unwrap(),
        "http://127.0.0.1:3000/auth/callback"
    );
    let code = param(&app, "code");
    // The callback cannot be replayed (PKCE errors go in the query too).
    let replay = api.call(api.http.get(callback.as_str())).await;
    let again = location(&replay);
    assert_eq!(param(&again, "error_code"), "flow_state_already_used");

    let session = api
        .post(
            "/token?grant_type=pkce",
            json!({ "auth_code": code, "code_verifier": verifier }),
        )
        .await;
    assert_eq!(session.status, 200);
    assert!(
        session.body["provider_token"]
            .as_str()
            .unwrap()
            .starts_with("emulator-provider-token-")
    );
    let user = &session.body["user"];
    assert_eq!(user["email"], "octo@example.com");
    assert_eq!(
        user["app_metadata"],
        json!({ "provider": "github", "providers": ["github"] })
    );
    assert_eq!(user["user_metadata"]["full_name"], "Octo Cat");
    assert_eq!(user["identities"][0]["provider"], "github");
    assert_eq!(
        jwt_part(session.body["access_token"].as_str().unwrap(), 1)["amr"][0]["method"],
        "oauth"
    );
}

#[tokio::test]
async fn implicit_flow_deny_and_unknown_provider() {
    let api = Api::start().await;
    let unknown = api
        .call(
            api.http
                .get(format!("{}?provider=myspace", api.url("/authorize"))),
        )
        .await;
    assert_eq!(unknown.status, 400);
    assert_eq!(
        unknown.body["msg"],
        "Unsupported provider: provider is not enabled"
    );

    let res = api
        .call(api.http.get(format!(
            "{}?provider=google&skip_http_redirect=true",
            api.url("/authorize")
        )))
        .await;
    assert_eq!(res.status, 200);
    let consent = url::Url::parse(res.body["url"].as_str().unwrap()).unwrap();
    let state = param(&consent, "state");
    let form = [
        ("state", state.as_str()),
        ("redirect_uri", &api.url("/callback")),
        ("email", "g@example.com"),
        ("action", "approve"),
    ];
    let approved = api
        .call(support::form_post(
            &api.http,
            format!("{}/oauth-provider/authorize", api.emu.url()),
            &form,
        ))
        .await;
    let back = api.call(api.http.get(location(&approved).as_str())).await;
    let app = location(&back);
    assert_eq!(
        app.as_str().split('#').next().unwrap(),
        "http://127.0.0.1:3000/"
    );
    let frag = pairs(app.fragment().unwrap());
    let names: Vec<&str> = frag.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "access_token",
            "expires_at",
            "expires_in",
            "provider_refresh_token",
            "provider_token",
            "refresh_token",
            "sb",
            "token_type"
        ]
    );

    let res = api
        .call(
            api.http
                .get(format!("{}?provider=google", api.url("/authorize"))),
        )
        .await;
    let state = param(&location(&res), "state");
    let form = [
        ("state", state.as_str()),
        ("redirect_uri", &api.url("/callback")),
        ("action", "deny"),
    ];
    let denied = api
        .call(support::form_post(
            &api.http,
            format!("{}/oauth-provider/authorize", api.emu.url()),
            &form,
        ))
        .await;
    let back = api.call(api.http.get(location(&denied).as_str())).await;
    let frag = pairs(location(&back).fragment().unwrap());
    assert_eq!(frag[0], ("error".to_string(), "access_denied".to_string()));
    assert_eq!(
        frag[2],
        (
            "error_description".to_string(),
            "The user denied the request".to_string()
        )
    );
}
