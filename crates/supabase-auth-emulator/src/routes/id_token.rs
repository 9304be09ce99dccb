//! `POST /token?grant_type=id_token` (GoTrue's `token_oidc.go`), for id_tokens of the
//! emulator's local provider (see `crate::oidc`): auth-js `signInWithIdToken` and
//! `linkIdentity({ provider, token })`.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::auth::require_user;
use super::error::{ApiError, ApiResult};
use super::external::{ProviderUser, link_to_user, sign_in_or_up};
use super::extract::Caller;
use crate::oidc;
use crate::session::{self, Extras};
use crate::state::AppState;

/// Providers whose id_tokens GoTrue's grant takes by name (`getProvider`).
const ID_TOKEN_PROVIDERS: &[&str] = &[
    "apple",
    "azure",
    "facebook",
    "google",
    "kakao",
    "keycloak",
    "snapchat",
    "vercel_marketplace",
];

#[derive(Debug, Default, Deserialize)]
pub(crate) struct IdTokenParams {
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    provider: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    issuer: Option<String>,
    #[serde(default)]
    link_identity: bool,
}

/// GoTrue's `OAuthError`: `{"error","error_description"}`, 400.
fn oauth_error(error: &'static str, description: impl Into<String>) -> ApiError {
    let mut e = ApiError::bad_request(error, description);
    e.oauth = true;
    e
}

fn invalid(description: impl Into<String>) -> ApiError {
    oauth_error("invalid request", description)
}

/// Which provider the grant is for; `Ok(skip_nonce_check)`.
fn check_provider(st: &AppState, provider: &str) -> ApiResult<bool> {
    if provider.starts_with("custom:") {
        return Err(ApiError::validation("Custom OAuth providers are disabled"));
    }
    if !ID_TOKEN_PROVIDERS.contains(&provider) {
        // GoTrue falls back to `GOTRUE_EXTERNAL_ALLOWED_ID_TOKEN_ISSUERS`, empty here.
        return Err(ApiError::validation(format!(
            "Custom OIDC provider {provider:?} not allowed"
        )));
    }
    if !st.config.external_providers.contains(provider) {
        return Err(ApiError::bad_request(
            "provider_disabled",
            format!(
                "Provider (issuer {:?}) is not enabled",
                oidc::issuer(&st.base_url)
            ),
        ));
    }
    // Facebook Limited Login tokens are not nonce-checked.
    Ok(provider == "facebook")
}

fn text(claims: &Map<String, Value>, key: &str) -> String {
    claims
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

/// `email_verified` as a bool, or Google's `"true"` string.
fn verified(claims: &Map<String, Value>) -> bool {
    match claims.get("email_verified") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    }
}

/// `ParseIDToken` plus the email pick of `IdTokenGrant`: the identity data GoTrue
/// stores, which depends on the provider's parser (`provider/oidc.go`).
fn provider_user(provider: &str, claims: &Map<String, Value>) -> ProviderUser {
    let email = text(claims, "email").to_lowercase();
    let mut data = Map::new();
    let mut put = |k: &str, v: String| {
        if !v.is_empty() {
            data.insert(k.into(), Value::String(v));
        }
    };
    let email_verified = match provider {
        "google" => {
            put("iss", text(claims, "iss"));
            put("sub", text(claims, "sub"));
            put("name", text(claims, "name"));
            put("picture", text(claims, "picture"));
            put("avatar_url", text(claims, "picture"));
            put("full_name", text(claims, "name"));
            put("provider_id", text(claims, "sub"));
            let hd = text(claims, "hd");
            if !hd.is_empty() {
                data.insert("custom_claims".into(), json!({ "hd": hd }));
            }
            verified(claims)
        }
        "apple" => {
            put("iss", text(claims, "iss"));
            put("sub", text(claims, "sub"));
            put("provider_id", text(claims, "sub"));
            let mut custom = Map::new();
            if let Some(p) = claims.get("is_private_email") {
                custom.insert("is_private_email".into(), p.clone());
            }
            data.insert("custom_claims".into(), Value::Object(custom));
            true
        }
        "facebook" => {
            put("iss", text(claims, "iss"));
            put("sub", text(claims, "sub"));
            put("name", text(claims, "name"));
            put("picture", text(claims, "picture"));
            put("provider_id", text(claims, "sub"));
            !email.is_empty()
        }
        _ => {
            // `parseGenericIDToken`: the token's standard claims as they are.
            for k in [
                "iss",
                "sub",
                "name",
                "family_name",
                "given_name",
                "middle_name",
                "nickname",
                "preferred_username",
                "profile",
                "picture",
                "website",
                "gender",
                "birthdate",
                "zoneinfo",
                "locale",
                "phone",
                "full_name",
                "avatar_url",
                "slug",
                "provider_id",
                "user_name",
            ] {
                put(k, text(claims, k));
            }
            for k in ["aud", "iat", "exp"] {
                if let Some(v) = claims.get(k) {
                    data.insert(k.into(), v.clone());
                }
            }
            if let Some(Value::String(aud)) = data.get("aud").cloned() {
                data.insert("aud".into(), json!([aud]));
            }
            data.insert(
                "phone_verified".into(),
                Value::Bool(claims.get("phone_verified").and_then(Value::as_bool) == Some(true)),
            );
            verified(claims)
        }
    };
    // Apple's parser marks its (possibly empty) email verified; the others only a
    // non-empty one.
    let email_verified = email_verified && (provider == "apple" || !email.is_empty());
    if !email.is_empty() {
        data.insert("email".into(), Value::String(email.clone()));
    }
    data.insert("email_verified".into(), Value::Bool(email_verified));
    data.entry("phone_verified").or_insert(Value::Bool(false));
    ProviderUser {
        subject: text(claims, "sub"),
        email,
        email_verified,
        data,
    }
}

/// `IdTokenGrant`.
pub(crate) fn id_token_grant(st: &AppState, caller: &Caller, p: IdTokenParams) -> ApiResult<Value> {
    let token = p.id_token.clone().unwrap_or_default();
    if token.is_empty() {
        return Err(invalid("id_token required"));
    }
    let provider = p.provider.clone().unwrap_or_default();
    let has_client = p.client_id.as_deref().is_some_and(|s| !s.is_empty())
        && p.issuer.as_deref().is_some_and(|s| !s.is_empty());
    if provider.is_empty() && !has_client {
        return Err(invalid("provider or client_id and issuer required"));
    }
    let target = if p.link_identity {
        if caller.authorization.is_none() {
            return Err(invalid(
                "Linking requires a valid user access token in Authorization",
            ));
        }
        Some(st.store.tx(|c| require_user(st, c, caller))?.user)
    } else {
        None
    };
    let skip_nonce = check_provider(st, &provider)?;
    let issuer = oidc::issuer(&st.base_url);
    let now = st.now();
    let key = st.store.tx(|c| oidc::provider_key(c, now))?;
    let claims = oidc::verify(&key, &issuer, &token, st.clock.now_secs()).map_err(|e| {
        tracing::info!(reason = %e.0, "id_token refused");
        invalid("Bad ID token")
    })?;
    let user_data = provider_user(&provider, &claims);
    if user_data.subject.is_empty() {
        return Err(invalid("Missing sub claim in id_token"));
    }
    let audiences = oidc::audiences(&claims);
    if !audiences.iter().any(|a| a == oidc::CLIENT_ID) {
        return Err(invalid(format!(
            "Unacceptable audience in id_token: [{}]",
            audiences.join(" ")
        )));
    }
    if !skip_nonce {
        let token_nonce = text(&claims, "nonce");
        let given = p.nonce.unwrap_or_default();
        if token_nonce.is_empty() != given.is_empty() {
            return Err(invalid(
                "Passed nonce and nonce in id_token should either both exist or not.",
            ));
        }
        if !given.is_empty() && oidc::hash_nonce(&given) != token_nonce {
            return Err(oauth_error("invalid nonce", "Nonces mismatch"));
        }
    }
    st.store.tx(|c| {
        let mut user = match &target {
            Some(t) => link_to_user(st, c, t, &provider, &user_data)?,
            None => sign_in_or_up(st, c, &provider, &user_data)?,
        };
        let m = session::issue(
            st,
            c,
            &mut user,
            "oauth",
            caller.user_agent.as_deref(),
            Extras::default(),
        )?;
        Ok(Value::Object(m))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn google_identity_data_follows_parse_google_id_token() {
        let pu = provider_user(
            "google",
            &claims(json!({
                "iss": "http://e/oauth-provider", "sub": "123", "aud": "x", "exp": 1,
                "email": "A@Example.com", "email_verified": true, "name": "Ann",
                "picture": "http://p"
            })),
        );
        assert_eq!(pu.subject, "123");
        assert_eq!(pu.email, "a@example.com");
        assert!(pu.email_verified);
        assert_eq!(
            Value::Object(pu.data),
            json!({
                "iss": "http://e/oauth-provider", "sub": "123", "name": "Ann",
                "picture": "http://p", "avatar_url": "http://p", "full_name": "Ann",
                "provider_id": "123", "email": "a@example.com", "email_verified": true,
                "phone_verified": false
            })
        );
    }

    #[test]
    fn generic_identity_data_keeps_standard_claims() {
        let pu = provider_user(
            "keycloak",
            &claims(json!({
                "iss": "i", "sub": "s", "aud": "x", "iat": 1, "exp": 2, "nonce": "n",
                "email": "b@example.com", "email_verified": false, "other": 1
            })),
        );
        assert!(!pu.email_verified);
        assert_eq!(
            Value::Object(pu.data),
            json!({
                "iss": "i", "sub": "s", "aud": ["x"], "iat": 1, "exp": 2,
                "phone_verified": false, "email": "b@example.com", "email_verified": false
            })
        );
    }
}
