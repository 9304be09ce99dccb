//! `/health`, `/settings`, the JWKS and the OpenID configuration.

use axum::Json;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::St;

pub(crate) async fn health() -> Json<Value> {
    Json(json!({
        "version": concat!("emulator-", env!("CARGO_PKG_VERSION")),
        "name": "GoTrue",
        "description": "GoTrue is a user registration and authentication API"
    }))
}

pub(crate) async fn settings(st: St) -> Json<Value> {
    let mut external = serde_json::Map::new();
    external.insert(
        "anonymous_users".into(),
        json!(st.config.anonymous_sign_ins),
    );
    for name in [
        "apple",
        "azure",
        "bitbucket",
        "discord",
        "facebook",
        "snapchat",
        "figma",
        "fly",
        "github",
        "gitlab",
        "google",
        "keycloak",
        "kakao",
        "linkedin",
        "linkedin_oidc",
        "notion",
        "spotify",
        "slack",
        "slack_oidc",
        "workos",
        "twitch",
        "twitter",
    ] {
        external.insert(
            name.into(),
            json!(st.config.external_providers.contains(name)),
        );
    }
    external.insert("email".into(), json!(st.config.email_provider));
    external.insert("phone".into(), json!(st.config.phone_provider));
    external.insert(
        "zoom".into(),
        json!(st.config.external_providers.contains("zoom")),
    );
    Json(json!({
        "external": external,
        "disable_signup": st.config.disable_signup,
        "mailer_autoconfirm": st.config.autoconfirm,
        "phone_autoconfirm": st.config.phone_autoconfirm,
        "sms_provider": "",
        "saml_enabled": false,
        "saml_private_key_next_configured": false,
        "passkeys_enabled": false
    }))
}

pub(crate) async fn jwks(st: St) -> impl IntoResponse {
    let body = st.keys().jwks();
    ([(header::CACHE_CONTROL, "public, max-age=600")], Json(body))
}

pub(crate) async fn openid_configuration(st: St) -> Json<Value> {
    let iss = st.auth_url();
    Json(json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/oauth/authorize"),
        "token_endpoint": format!("{iss}/oauth/token"),
        "jwks_uri": format!("{iss}/.well-known/jwks.json"),
        "userinfo_endpoint": format!("{iss}/oauth/userinfo"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "HS256", "ES256"],
        "code_challenge_methods_supported": ["S256", "plain"]
    }))
}
