//! `POST /token`: the password and PKCE grants (refresh is in `token_refresh.rs`).

use axum::Json;
use serde::Deserialize;
use serde_json::Value;

use super::St;
use super::error::{ApiError, ApiResult};
use super::extract::{Caller, LimitedBody, QueryMap, parse_json};
use crate::session::{self, Extras};
use crate::state::AppState;
use crate::store::tokens;
use crate::store::users;

/// GoTrue's minimum (and default) flow-state lifetime.
const FLOW_STATE_EXPIRY_MICROS: i64 = 300 * 1_000_000;

pub(crate) async fn token(
    st: St,
    caller: Caller,
    query: QueryMap,
    LimitedBody(body): LimitedBody,
) -> ApiResult<Json<Value>> {
    // grant_type comes from the query (auth-js) or an urlencoded form body.
    let form_grant = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "grant_type")
        .map(|(_, v)| v.into_owned());
    let grant = query
        .get("grant_type")
        .map(str::to_string)
        .or(form_grant)
        .unwrap_or_default();
    match grant.as_str() {
        "password" => password_grant(&st, &caller, parse_json(&body)?)
            .await
            .map(Json),
        "refresh_token" => super::token_refresh::refresh_grant(&st, parse_json(&body)?).map(Json),
        "pkce" => pkce_grant(&st, &caller, parse_json(&body)?).map(Json),
        "id_token" => super::id_token::id_token_grant(&st, &caller, parse_json(&body)?).map(Json),
        _ => Err(ApiError::bad_request(
            "invalid_credentials",
            "unsupported_grant_type",
        )),
    }
}

#[derive(Debug, Default, Deserialize)]
struct PasswordParams {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

fn invalid_credentials() -> ApiError {
    ApiError::bad_request("invalid_credentials", "Invalid login credentials")
}

async fn password_grant(st: &AppState, caller: &Caller, p: PasswordParams) -> ApiResult<Value> {
    let email = p.email.unwrap_or_default();
    let phone = p.phone.unwrap_or_default();
    let password = p.password.unwrap_or_default();
    match (email.is_empty(), phone.is_empty()) {
        (false, false) => {
            return Err(ApiError::validation(
                "Only an email address or phone number should be provided on login.",
            ));
        }
        (true, true) => return Err(ApiError::validation("missing email or phone")),
        (true, false) if !st.config.phone_provider => {
            return Err(ApiError::unprocessable(
                "phone_provider_disabled",
                "Phone logins are disabled",
            ));
        }
        (true, false) => {}
        (false, true) if !st.config.email_provider => {
            return Err(ApiError::unprocessable(
                "email_provider_disabled",
                "Email logins are disabled",
            ));
        }
        (false, true) => {}
    }
    // GoTrue's `formatPhoneNumber` only (no E.164 check): an odd number finds no one.
    let phone = phone.strip_prefix('+').unwrap_or(&phone).replace(' ', "");
    let user = st
        .store
        .tx(|c| {
            if email.is_empty() {
                users::find_by_phone(c, &phone)
            } else {
                users::find_by_email(c, &email)
            }
        })?
        .ok_or_else(invalid_credentials)?;
    let hash = user
        .encrypted_password
        .clone()
        .filter(|h| !h.is_empty())
        .ok_or_else(invalid_credentials)?;
    if user.is_banned(st.now()) {
        return Err(ApiError::bad_request("user_banned", "User is banned"));
    }
    if !crate::password::verify(password.clone(), hash).await {
        return Err(invalid_credentials());
    }
    if !email.is_empty() && !user.email_confirmed() {
        return Err(ApiError::bad_request(
            "email_not_confirmed",
            "Email not confirmed",
        ));
    }
    if email.is_empty() && user.phone_confirmed_at.is_none() {
        return Err(ApiError::bad_request(
            "phone_not_confirmed",
            "Phone not confirmed",
        ));
    }
    let extras = Extras {
        weak_password: Some(crate::password::weak_password_value(&password)),
        ..Default::default()
    };
    st.store.tx(|c| {
        // Reload: the row may have changed while bcrypt ran.
        let mut user = users::get(c, &user.id)?.ok_or_else(invalid_credentials)?;
        let m = session::issue(
            st,
            c,
            &mut user,
            "password",
            caller.user_agent.as_deref(),
            extras,
        )?;
        Ok(Value::Object(m))
    })
}

#[derive(Debug, Default, Deserialize)]
struct PkceParams {
    #[serde(default)]
    auth_code: Option<String>,
    #[serde(default)]
    code_verifier: Option<String>,
}

fn pkce_grant(st: &AppState, caller: &Caller, p: PkceParams) -> ApiResult<Value> {
    let code = p.auth_code.unwrap_or_default();
    let verifier = p.code_verifier.unwrap_or_default();
    if code.is_empty() || verifier.is_empty() {
        return Err(ApiError::validation(
            "invalid request: both auth code and code verifier should be non-empty",
        ));
    }
    st.store.tx(|c| {
        let not_found = || {
            ApiError::not_found(
                "flow_state_not_found",
                "invalid flow state, no valid flow state found",
            )
        };
        let flow = tokens::flow_state_by_code(c, &code)?.ok_or_else(not_found)?;
        let user_id = flow.user_id.clone().ok_or_else(not_found)?;
        let started = if flow.authentication_method == "magiclink" {
            flow.auth_code_issued_at.unwrap_or(flow.created_at)
        } else {
            flow.created_at
        };
        if st.now() > started.saturating_add(FLOW_STATE_EXPIRY_MICROS) {
            return Err(ApiError::unprocessable(
                "flow_state_expired",
                "invalid flow state, flow state has expired",
            ));
        }
        if !crate::pkce::verify(&flow.code_challenge_method, &flow.code_challenge, &verifier) {
            return Err(ApiError::bad_request(
                "bad_code_verifier",
                "code challenge does not match previously saved code verifier",
            ));
        }
        let mut user = users::get(c, &user_id)?.ok_or_else(not_found)?;
        if user.is_banned(st.now()) {
            return Err(ApiError::bad_request("user_banned", "User is banned"));
        }
        let extras = Extras {
            provider_token: Some(flow.provider_access_token.clone()),
            provider_refresh_token: Some(flow.provider_refresh_token.clone()),
            weak_password: None,
        };
        let m = session::issue(
            st,
            c,
            &mut user,
            &flow.authentication_method,
            caller.user_agent.as_deref(),
            extras,
        )?;
        tokens::delete_flow_state(c, &flow.id)?;
        Ok(Value::Object(m))
    })
}
