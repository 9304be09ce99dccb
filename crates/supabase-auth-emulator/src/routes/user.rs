//! `GET /user`, `PUT /user`, `POST /logout`.

use crate::store::Db;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::St;
use super::auth::{Authed, require_user};
use super::error::{ApiError, ApiResult};
use super::extract::{Caller, JsonBody, QueryMap};
use super::reauthenticate;
use super::signup::{check_email, redirect_target};
use crate::mailer::{self, MailKind};
use crate::pkce::{self, Challenge};
use crate::state::AppState;
use crate::store::factors::{self, FactorRecord};
use crate::store::sessions::SessionRecord;
use crate::store::tokens::{self, FlowState, OttType};
use crate::store::user_json::user_json;
use crate::store::users::{self, IdentityRecord, UserRecord};
use crate::store::{DbResult, sessions, tokens as ott};

pub(crate) async fn get_user(st: St, caller: Caller) -> ApiResult<Json<Value>> {
    let body = st.store.tx(|c| {
        let authed = require_user(&st, c, &caller)?;
        Ok::<_, ApiError>(user_json(c, &authed.user)?)
    })?;
    Ok(Json(body))
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct UserUpdateParams {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    app_metadata: Option<Value>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    code_challenge: Option<String>,
    #[serde(default)]
    code_challenge_method: Option<String>,
    /// The code from `GET /reauthenticate`, for a password change.
    #[serde(default)]
    nonce: Option<String>,
}

/// A user with a verified MFA factor changes password, email or phone only from an
/// aal2 session (`UserUpdate`'s `HasMFAEnabled` check: 401 `insufficient_aal`).
fn require_aal2_for_credentials(
    st: &AppState,
    authed: &Authed,
    p: &UserUpdateParams,
) -> ApiResult<()> {
    let mfa_enabled = st
        .store
        .tx(|c| factors::for_user(c, &authed.user.id))?
        .iter()
        .any(FactorRecord::is_verified);
    if !mfa_enabled || authed.session.as_ref().is_some_and(SessionRecord::is_aal2) {
        return Ok(());
    }
    let changes = p.password.as_deref().is_some_and(|s| !s.is_empty())
        || p.email
            .as_deref()
            .is_some_and(|e| !e.is_empty() && e != authed.user.email)
        || p.phone
            .as_deref()
            .is_some_and(|ph| !ph.is_empty() && ph != authed.user.phone);
    if changes {
        return Err(ApiError::unauthorized(
            "insufficient_aal",
            "AAL2 session is required to update email or password when MFA is enabled.",
        ));
    }
    Ok(())
}

/// Merges `patch` into `target`; a `null` value deletes the key (GoTrue's `UpdateUserMetaData`).
pub(super) fn merge_metadata(target: &mut Map<String, Value>, patch: &Map<String, Value>) {
    for (k, v) in patch {
        if v.is_null() {
            target.remove(k);
        } else {
            target.insert(k.clone(), v.clone());
        }
    }
}

pub(crate) async fn update_user(
    st: St,
    caller: Caller,
    query: QueryMap,
    JsonBody(p): JsonBody<UserUpdateParams>,
) -> ApiResult<Json<Value>> {
    let authed = st.store.tx(|c| require_user(&st, c, &caller))?;
    // `validateUserUpdateParams`: a present password is checked even when empty.
    let email = p
        .email
        .clone()
        .filter(|e| !e.is_empty())
        .map(|e| e.to_lowercase());
    if let Some(e) = &email {
        check_email(e)?;
    }
    // The number is validated and the channel checked (sms only); GoTrue does not
    // require the phone provider here.
    let phone = match p.phone.as_deref().filter(|s| !s.is_empty()) {
        Some(raw) => Some((
            crate::phone::validate(raw)?,
            crate::phone::channel(p.channel.as_deref())?,
        )),
        None => None,
    };
    if let Some(password) = &p.password {
        crate::password::check_length(password)?;
        crate::password::check_strength(password)?;
    }
    if p.app_metadata.as_ref().is_some_and(|v| !v.is_null()) {
        return Err(ApiError::forbidden(
            "not_admin",
            "Updating app_metadata requires admin privileges",
        ));
    }
    require_aal2_for_credentials(&st, &authed, &p)?;
    if authed.user.is_anonymous
        && p.password.as_deref().is_some_and(|s| !s.is_empty())
        && email.is_none()
        && phone.is_none()
    {
        return Err(ApiError::unprocessable(
            "validation_failed",
            "Updating password of an anonymous user without an email or phone is not allowed",
        ));
    }
    let new_email = email.filter(|e| *e != authed.user.email);
    if let Some(e) = &new_email {
        st.store.tx(|c| check_email_free(c, e, &authed.user.id))?;
    }
    let new_phone = phone.filter(|(ph, _)| *ph != authed.user.phone);
    if let Some((ph, _)) = &new_phone
        && st.store.tx(|c| users::find_by_phone(c, ph))?.is_some()
    {
        return Err(ApiError::unprocessable(
            "phone_exists",
            "Phone number already registered by another user",
        ));
    }
    let challenge = pkce::validate(
        p.code_challenge.as_deref(),
        p.code_challenge_method.as_deref(),
    )?;
    let redirect_to = redirect_target(&st, &caller, &query);

    let mut new_hash = None;
    if let Some(password) = p.password.clone() {
        if st.config.secure_password_change
            && reauthenticate::needs_nonce(&st, authed.session.as_ref().map(|s| s.created_at))
        {
            let nonce = p.nonce.as_deref().unwrap_or("");
            if nonce.is_empty() {
                return Err(ApiError::bad_request(
                    "reauthentication_needed",
                    "Password update requires reauthentication",
                ));
            }
            // Spent here, as GoTrue does before its other password checks.
            st.store.tx(|c| {
                let user = users::get(c, &authed.user.id)?.ok_or_else(user_gone)?;
                reauthenticate::verify_nonce(&st, c, &user, nonce)
            })?;
        }
        if let Some(current) = authed
            .user
            .encrypted_password
            .clone()
            .filter(|h| !h.is_empty())
            && crate::password::verify(password.clone(), current).await
        {
            return Err(ApiError::unprocessable(
                "same_password",
                "New password should be different from the old password.",
            ));
        }
        new_hash = Some(crate::password::hash(password, st.config.bcrypt_cost).await?);
    }

    let body = st.store.tx(|c| {
        let now = st.now();
        let mut user = users::get(c, &authed.user.id)?.ok_or_else(user_gone)?;
        if let Some(hash) = new_hash {
            user.encrypted_password = Some(hash);
            forget_pending_tokens(c, &mut user)?;
            // A password change signs out every other session of the user.
            let keep = authed.session.as_ref().map(|s| s.id.as_str());
            sessions::delete_for_user(c, &user.id, keep)?;
        }
        if let Some(Value::Object(data)) = &p.data {
            merge_metadata(&mut user.user_metadata, data);
        }
        if let Some(new_email) = new_email.filter(|e| *e != user.email) {
            check_email_free(c, &new_email, &user.id)?;
            if user.is_anonymous && st.config.autoconfirm {
                // Like a signup: the anonymous user gets the address at once. A
                // permanent user always confirms a new address, autoconfirm or not.
                user.new_email = new_email;
                apply_email_change(c, &mut user, now)?;
            } else {
                send_email_change(
                    &st,
                    c,
                    &mut user,
                    &new_email,
                    challenge.as_ref(),
                    &redirect_to,
                )?;
            }
        }
        if let Some((ph, channel)) = new_phone.filter(|(ph, _)| *ph != user.phone) {
            super::phone::change(&st, c, &mut user, &ph, &channel)?;
        }
        users::save(c, &mut user, now)?;
        Ok::<_, ApiError>(user_json(c, &user)?)
    })?;
    Ok(Json(body))
}

fn user_gone() -> ApiError {
    ApiError::forbidden(
        "user_not_found",
        "User from sub claim in JWT does not exist",
    )
}

/// 422 `email_exists` when another user has `email`.
fn check_email_free(c: &Db<'_>, email: &str, user_id: &str) -> ApiResult<()> {
    if users::find_by_email(c, email)?.is_some_and(|u| u.id != user_id) {
        return Err(ApiError::unprocessable(
            "email_exists",
            "A user with this email address has already been registered",
        ));
    }
    Ok(())
}

/// `User.UpdatePassword`: a new password voids every pending email token (signup,
/// recovery, email change, reauthentication) and its sent-at time; `new_email` stays.
fn forget_pending_tokens(c: &Db<'_>, user: &mut UserRecord) -> DbResult<()> {
    user.confirmation_sent_at = None;
    user.recovery_sent_at = None;
    user.email_change_sent_at = None;
    user.phone_change_sent_at = None;
    user.reauthentication_sent_at = None;
    ott::clear_otts(c, &user.id)
}

/// Sends email-change confirmations (`sendEmailChange`): to the new address, and to
/// the current one when secure email change is on and the user has one.
pub(super) fn send_email_change(
    st: &AppState,
    c: &Db<'_>,
    user: &mut UserRecord,
    new_email: &str,
    challenge: Option<&Challenge>,
    redirect_to: &str,
) -> ApiResult<()> {
    mailer::check_frequency(st, user.email_change_sent_at)?;
    let now = st.now();
    let (otp_new, hash_new) = mailer::new_token(st, new_email, challenge.is_some());
    tokens::put_ott(
        c,
        &user.id,
        OttType::EmailChangeNew,
        &hash_new,
        new_email,
        now,
    )?;
    mailer::send(
        st,
        c,
        MailKind::EmailChange,
        new_email,
        &otp_new,
        &hash_new,
        redirect_to,
    )?;
    if st.config.secure_email_change && !user.email.is_empty() {
        let (otp_cur, hash_cur) = mailer::new_token(st, &user.email, challenge.is_some());
        tokens::put_ott(
            c,
            &user.id,
            OttType::EmailChangeCurrent,
            &hash_cur,
            &user.email,
            now,
        )?;
        mailer::send(
            st,
            c,
            MailKind::EmailChange,
            &user.email,
            &otp_cur,
            &hash_cur,
            redirect_to,
        )?;
    } else {
        ott::clear_ott(c, &user.id, OttType::EmailChangeCurrent)?;
    }
    if let Some(ch) = challenge {
        let flow = FlowState::new(
            Some(&user.id),
            &ch.method,
            &ch.challenge,
            "email_change",
            "email_change",
            now,
        );
        tokens::save_flow_state(c, &flow, now)?;
    }
    user.new_email = new_email.to_string();
    user.email_change_sent_at = Some(now);
    user.email_change_confirm_status = 0;
    Ok(())
}

/// Makes `user.new_email` the user's address (the end of `emailChangeVerify` and
/// `ConfirmEmailChange`): the email identity gets the address and `email_verified`
/// (one is created if missing), the user stops being anonymous, every one-time token
/// goes, and an unconfirmed address is confirmed. `email_change_sent_at` stays, and
/// `app_metadata` is left to the caller (`/verify` recomputes it, `PUT /user` does not).
pub(super) fn apply_email_change(c: &Db<'_>, user: &mut UserRecord, now: i64) -> ApiResult<()> {
    let new_email = user.new_email.to_lowercase();
    let existing = users::identities(c, &user.id)?
        .into_iter()
        .find(|i| i.provider == "email");
    let identity = match existing {
        Some(mut i) => {
            i.identity_data.insert("email".into(), json!(new_email));
            i.identity_data.insert("email_verified".into(), json!(true));
            i
        }
        None => {
            let mut data = Map::new();
            data.insert("sub".into(), json!(user.id));
            data.insert("email".into(), json!(new_email));
            data.insert("email_verified".into(), json!(true));
            data.insert("phone_verified".into(), json!(false));
            IdentityRecord::new(&user.id, "email", &user.id, data, now)
        }
    };
    users::upsert_identity(c, &identity)?;
    user.is_anonymous = false;
    user.email = new_email;
    user.new_email.clear();
    user.email_change_confirm_status = 0;
    ott::clear_otts(c, &user.id)?;
    if !user.email_confirmed() {
        user.confirm_email(now);
    }
    Ok(())
}

pub(crate) async fn logout(st: St, caller: Caller, query: QueryMap) -> ApiResult<Response> {
    st.store.tx(|c| {
        let authed = require_user(&st, c, &caller)?;
        let scope = query.get("scope").unwrap_or("global");
        if !matches!(scope, "global" | "local" | "others") {
            return Err(ApiError::validation(format!(
                "Unsupported logout scope {scope:?}"
            )));
        }
        match (scope, &authed.session) {
            ("local", Some(s)) => sessions::delete(c, &s.id)?,
            ("others", Some(s)) => sessions::delete_for_user(c, &authed.user.id, Some(&s.id))?,
            _ => sessions::delete_for_user(c, &authed.user.id, None)?,
        }
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
