//! The local provider's OpenID Connect side, outside `/auth/v1` like its consent page:
//! discovery, JWKS, and `POST /oauth-provider/id_token`, which hands tests an id_token
//! for `signInWithIdToken` (what a native Google or Apple SDK would return).

use axum::Json;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::St;
use super::error::{ApiError, ApiResult};
use super::extract::JsonBody;
use crate::oidc;
use crate::util::sha224_hex;

pub(crate) async fn openid_configuration(st: St) -> Json<Value> {
    let issuer = oidc::issuer(&st.base_url);
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code", "id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
    }))
}

pub(crate) async fn jwks(st: St) -> ApiResult<Json<Value>> {
    let now = st.now();
    let key = st.store.tx(|c| oidc::provider_key(c, now))?;
    Ok(Json(oidc::jwks(&key)))
}

/// What a test asks the provider to put in an id_token.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct IdTokenRequest {
    /// The provider the token stands for; it picks the default `sub` so the identity
    /// is the one the consent page gives for the same email. Default `google`.
    #[serde(default)]
    provider: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    picture: Option<String>,
    /// Default true.
    #[serde(default)]
    email_verified: Option<bool>,
    /// Put in the token as given: pass `hex(sha256(raw nonce))`, as apps pass the
    /// hashed nonce to Google or Apple, and the raw one to `signInWithIdToken`.
    #[serde(default)]
    nonce: Option<String>,
    /// A string or an array; default the local client id.
    #[serde(default)]
    aud: Option<Value>,
    /// Seconds until `exp` (negative for an expired token). Default 3600.
    #[serde(default)]
    expires_in: Option<i64>,
    /// More claims, merged last.
    #[serde(default)]
    claims: Option<Map<String, Value>>,
}

pub(crate) async fn issue_id_token(
    st: St,
    JsonBody(req): JsonBody<IdTokenRequest>,
) -> ApiResult<Json<Value>> {
    let email = req.email.unwrap_or_default().trim().to_lowercase();
    if !email.is_empty() && crate::util::validate_email(&email).is_err() {
        return Err(ApiError::validation(
            "Unable to validate email address: invalid format",
        ));
    }
    let provider = req.provider.unwrap_or_else(|| "google".into());
    let sub = match req.sub.filter(|s| !s.is_empty()) {
        Some(s) => s,
        // SHA-224 hex is 56 characters, so the slice cannot fail; the consent page
        // derives its `sub` the same way.
        None if !email.is_empty() => sha224_hex(&format!("{provider}:{email}"))[..20].to_string(),
        None => return Err(ApiError::validation("email or sub required")),
    };
    let iat = st.clock.now_secs();
    let exp = iat.saturating_add(req.expires_in.unwrap_or(3600));
    let issuer = oidc::issuer(&st.base_url);
    let aud = req.aud.unwrap_or_else(|| json!(oidc::CLIENT_ID));
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(issuer));
    claims.insert("sub".into(), json!(sub));
    claims.insert("aud".into(), aud.clone());
    claims.insert("iat".into(), json!(iat));
    claims.insert("exp".into(), json!(exp));
    if !email.is_empty() {
        claims.insert("email".into(), json!(email));
        claims.insert(
            "email_verified".into(),
            json!(req.email_verified.unwrap_or(true)),
        );
    }
    for (k, v) in [
        ("name", req.name),
        ("picture", req.picture),
        ("nonce", req.nonce),
    ] {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            claims.insert(k.into(), json!(v));
        }
    }
    for (k, v) in req.claims.unwrap_or_default() {
        claims.insert(k, v);
    }
    let now = st.now();
    let key = st.store.tx(|c| oidc::provider_key(c, now))?;
    let id_token = oidc::sign(&key, &claims)?;
    Ok(Json(json!({
        "id_token": id_token,
        "iss": issuer,
        "sub": sub,
        "aud": aud,
        "exp": exp,
    })))
}
