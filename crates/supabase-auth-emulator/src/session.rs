//! Issuing sessions: the session row, its refresh token, the access token and the
//! session JSON (GoTrue's `AccessTokenResponse`).

use crate::store::Db;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::routes::error::ApiError;
use crate::state::AppState;
use crate::store::sessions::{self, SessionRecord};
use crate::store::user_json::{sorted, user_json};
use crate::store::users::{self, UserRecord};

/// Access token claims, in GoTrue's serialization order.
#[derive(Serialize)]
struct AccessClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: i64,
    iat: i64,
    email: &'a str,
    phone: &'a str,
    app_metadata: &'a Map<String, Value>,
    user_metadata: &'a Map<String, Value>,
    role: &'a str,
    aal: &'a str,
    amr: &'a Value,
    session_id: &'a str,
    is_anonymous: bool,
}

/// Extra fields some grants add to the session JSON.
#[derive(Debug, Default)]
pub(crate) struct Extras {
    pub(crate) provider_token: Option<String>,
    pub(crate) provider_refresh_token: Option<String>,
    /// Password grant only: always present (`null` or an object).
    pub(crate) weak_password: Option<Value>,
}

/// The level `CalculateAALAndAMR` derives from the session's `amr`: aal2 once it holds
/// an MFA method, whatever the stored `aal` says.
pub(crate) fn aal_of(amr: &Value) -> &'static str {
    let mfa = amr.as_array().is_some_and(|entries| {
        entries.iter().any(|e| {
            e.get("method")
                .and_then(Value::as_str)
                .is_some_and(|m| crate::mfa::AAL2_METHODS.contains(&m))
        })
    });
    if mfa { "aal2" } else { "aal1" }
}

/// Mints an access token for `user` in `session`; returns `(jwt, exp)`.
pub(crate) fn access_token(
    st: &AppState,
    user: &UserRecord,
    session: &SessionRecord,
) -> Result<(String, i64), ApiError> {
    let iat = st.clock.now_secs();
    let exp_secs = i64::try_from(st.config.jwt_exp.as_secs()).unwrap_or(i64::MAX / 2);
    let exp = iat.saturating_add(exp_secs);
    let issuer = st.auth_url();
    let app_metadata = sorted(&user.app_metadata);
    let user_metadata = sorted(&user.user_metadata);
    let claims = AccessClaims {
        iss: &issuer,
        sub: &user.id,
        aud: &user.aud,
        exp,
        iat,
        email: &user.email,
        phone: &user.phone,
        app_metadata: &app_metadata,
        user_metadata: &user_metadata,
        role: &user.role,
        aal: aal_of(&session.amr),
        amr: &session.amr,
        session_id: &session.id,
        is_anonymous: user.is_anonymous,
    };
    let jwt = st.keys().sign(&claims)?;
    Ok((jwt, exp))
}

/// The session JSON for an existing session and refresh token.
pub(crate) fn token_response(
    st: &AppState,
    c: &Db<'_>,
    user: &UserRecord,
    session: &SessionRecord,
    refresh_token: &str,
    extras: Extras,
) -> Result<Map<String, Value>, ApiError> {
    let user_value = user_json(c, user)?;
    session_answer(st, user, session, refresh_token, user_value, extras)
}

/// The session JSON with an already rendered `user`.
fn session_answer(
    st: &AppState,
    user: &UserRecord,
    session: &SessionRecord,
    refresh_token: &str,
    user_value: Value,
    extras: Extras,
) -> Result<Map<String, Value>, ApiError> {
    let (jwt, exp) = access_token(st, user, session)?;
    let mut m = Map::new();
    m.insert("access_token".into(), Value::String(jwt));
    m.insert("token_type".into(), Value::String("bearer".into()));
    m.insert("expires_in".into(), Value::from(exp - st.clock.now_secs()));
    m.insert("expires_at".into(), Value::from(exp));
    m.insert("refresh_token".into(), Value::String(refresh_token.into()));
    m.insert("user".into(), user_value);
    if let Some(t) = extras.provider_token.filter(|t| !t.is_empty()) {
        m.insert("provider_token".into(), Value::String(t));
    }
    if let Some(t) = extras.provider_refresh_token.filter(|t| !t.is_empty()) {
        m.insert("provider_refresh_token".into(), Value::String(t));
    }
    if let Some(w) = extras.weak_password {
        m.insert("weak_password".into(), w);
    }
    Ok(m)
}

/// Signs the user in: new session (amr `method`), new refresh token, `last_sign_in_at` = now.
pub(crate) fn issue(
    st: &AppState,
    c: &Db<'_>,
    user: &mut UserRecord,
    method: &str,
    user_agent: Option<&str>,
    extras: Extras,
) -> Result<Map<String, Value>, ApiError> {
    let now = st.now();
    user.last_sign_in_at = Some(now);
    users::save(c, user, now)?;
    let session = sessions::create(c, &user.id, method, now, user_agent)?;
    let refresh = sessions::insert_refresh_token(c, &user.id, &session.id, None, now)?;
    token_response(st, c, user, &session, &refresh, extras)
}

/// Raises a session after an MFA verification (`updateMFASessionAndClaims`): `method`
/// joins its `amr`, its oldest live refresh token is swapped for a child (so the aal1
/// token cannot be the one carried on), and the level and factor are recorded. Returns
/// the session JSON with `user_value` (GoTrue renders the user it loaded before).
pub(crate) fn upgrade_after_mfa(
    st: &AppState,
    c: &Db<'_>,
    user: &UserRecord,
    user_value: Value,
    session_id: &str,
    method: &str,
    factor_id: &str,
) -> Result<Map<String, Value>, ApiError> {
    let now = st.now();
    sessions::add_amr_claim(c, session_id, method, st.clock.now_secs())?;
    let mut session = sessions::get(c, session_id)?.ok_or_else(ApiError::internal)?;
    let current =
        sessions::oldest_active_refresh_token(c, session_id)?.ok_or_else(ApiError::internal)?;
    sessions::revoke(c, current.id, now)?;
    let refresh =
        sessions::insert_refresh_token(c, &user.id, session_id, Some(&current.token), now)?;
    let aal = aal_of(&session.amr);
    sessions::set_aal(c, session_id, aal, Some(factor_id))?;
    session.aal = aal.into();
    session.factor_id = Some(factor_id.into());
    session_answer(st, user, &session, &refresh, user_value, Extras::default())
}
