//! Passwordless sign-in: `POST /otp` (email here, phone in `phone.rs`), `/magiclink`,
//! `/recover`, `/resend`.

use crate::store::Db;
use axum::Json;
use serde::Deserialize;
use serde_json::{Value, json};

use super::St;
use super::error::{ApiError, ApiResult};
use super::extract::{Caller, JsonBody, QueryMap};
use super::signup::{
    check_email, data_map, insert_with_identity, new_email_user, redirect_target, send_confirmation,
};
use crate::mailer::{self, MailKind};
use crate::pkce::{self, Challenge};
use crate::state::AppState;
use crate::store::tokens::{self, FlowState, OttType};
use crate::store::users::{self, UserRecord};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct OtpParams {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    create_user: Option<bool>,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    code_challenge: Option<String>,
    #[serde(default)]
    code_challenge_method: Option<String>,
}

pub(crate) async fn otp(
    st: St,
    caller: Caller,
    query: QueryMap,
    JsonBody(p): JsonBody<OtpParams>,
) -> ApiResult<Json<Value>> {
    let email = p.email.clone().unwrap_or_default();
    let phone = p.phone.clone().unwrap_or_default();
    if !email.is_empty() && !phone.is_empty() {
        return Err(ApiError::validation(
            "Only an email address or phone number should be provided",
        ));
    }
    if !email.is_empty() && p.channel.as_deref().is_some_and(|c| !c.is_empty()) {
        return Err(ApiError::validation(
            "Channel should only be specified with Phone OTP",
        ));
    }
    if email.is_empty() && phone.is_empty() {
        return Err(ApiError::validation("One of email or phone must be set"));
    }
    if email.is_empty() {
        pkce::validate(
            p.code_challenge.as_deref(),
            p.code_challenge_method.as_deref(),
        )?;
        // `shouldCreateUser`: the number is checked (400) before it is looked up.
        if !p.create_user.unwrap_or(true) {
            let normalized = crate::phone::validate(&phone)?;
            if st
                .store
                .tx(|c| users::find_by_phone(c, &normalized))?
                .is_none()
            {
                return Err(ApiError::unprocessable(
                    "otp_disabled",
                    "Signups not allowed for otp",
                ));
            }
        }
        return super::phone::otp(&st, &caller, &phone, p.channel.as_deref(), data_map(p.data))
            .await
            .map(Json);
    }
    if !p.create_user.unwrap_or(true) && st.store.tx(|c| users::find_by_email(c, &email))?.is_none()
    {
        return Err(ApiError::unprocessable(
            "otp_disabled",
            "Signups not allowed for otp",
        ));
    }
    send_magic_link(
        &st,
        &caller,
        &query,
        &email,
        data_map(p.data),
        (
            p.code_challenge.as_deref(),
            p.code_challenge_method.as_deref(),
        ),
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct MagicLinkParams {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    code_challenge: Option<String>,
    #[serde(default)]
    code_challenge_method: Option<String>,
}

pub(crate) async fn magiclink(
    st: St,
    caller: Caller,
    query: QueryMap,
    JsonBody(p): JsonBody<MagicLinkParams>,
) -> ApiResult<Json<Value>> {
    let email = p.email.unwrap_or_default();
    send_magic_link(
        &st,
        &caller,
        &query,
        &email,
        data_map(p.data),
        (
            p.code_challenge.as_deref(),
            p.code_challenge_method.as_deref(),
        ),
    )
    .await
}

/// The end of `/otp` (email) and `/magiclink`: the PKCE parameters checked, the redirect
/// resolved, the link sent, `{}` answered.
async fn send_magic_link(
    st: &AppState,
    caller: &Caller,
    query: &QueryMap,
    email: &str,
    data: serde_json::Map<String, Value>,
    (code_challenge, method): (Option<&str>, Option<&str>),
) -> ApiResult<Json<Value>> {
    if !st.config.email_provider {
        return Err(ApiError::unprocessable(
            "email_provider_disabled",
            "Email logins are disabled",
        ));
    }
    let challenge = pkce::validate(code_challenge, method)?;
    let redirect_to = redirect_target(st, caller, query);
    magic_link(st, email, data, challenge, &redirect_to).await?;
    Ok(Json(json!({})))
}

/// GoTrue's magic-link logic, shared by `/otp` (email) and `/magiclink`.
async fn magic_link(
    st: &AppState,
    email: &str,
    data: serde_json::Map<String, Value>,
    challenge: Option<Challenge>,
    redirect_to: &str,
) -> ApiResult<()> {
    if email.is_empty() {
        return Err(ApiError::unprocessable(
            "validation_failed",
            "Password recovery requires an email",
        ));
    }
    check_email(email)?;
    let existing = st.store.tx(|c| users::find_by_email(c, email))?;
    let needs_signup = existing.as_ref().is_none_or(|u| !u.email_confirmed());
    if needs_signup {
        if existing.is_none() && st.config.disable_signup {
            return Err(ApiError::unprocessable(
                "signup_disabled",
                "Signups not allowed for this instance",
            ));
        }
        let hashed = match existing {
            Some(_) => None,
            None => Some(
                crate::password::hash(crate::util::random_alnum(64), st.config.bcrypt_cost).await?,
            ),
        };
        let confirmed_now = st.store.tx(|c| {
            let now = st.now();
            let mut user = match users::find_by_email(c, email)? {
                Some(u) => u,
                None => {
                    let (user, identity) = new_email_user(email, hashed, data, now);
                    insert_with_identity(c, &user, &identity)?;
                    user
                }
            };
            if st.config.autoconfirm {
                user.confirm_email(now);
                users::save(c, &mut user, now)?;
                Ok::<_, ApiError>(true)
            } else {
                send_confirmation(st, c, &mut user, challenge.as_ref(), redirect_to)?;
                Ok(false)
            }
        })?;
        if !confirmed_now {
            return Ok(());
        }
    }
    st.store.tx(|c| {
        let mut user = users::find_by_email(c, email)?
            .ok_or_else(|| ApiError::not_found("user_not_found", "User not found"))?;
        send_recovery_like(
            st,
            c,
            &mut user,
            MailKind::Magiclink,
            challenge.as_ref(),
            redirect_to,
        )
    })
}

/// A magic-link or recovery email: token in `recovery_token`, `recovery_sent_at` = now,
/// a flow state (`magiclink` / `recovery`) in PKCE mode.
pub(super) fn send_recovery_like(
    st: &AppState,
    c: &Db<'_>,
    user: &mut UserRecord,
    kind: MailKind,
    challenge: Option<&Challenge>,
    redirect_to: &str,
) -> ApiResult<()> {
    mailer::check_frequency(st, user.recovery_sent_at)?;
    let now = st.now();
    let (otp, hash) = mailer::new_token(st, &user.email, challenge.is_some());
    if let Some(ch) = challenge {
        let method = kind.as_str();
        let flow = FlowState::new(
            Some(&user.id),
            &ch.method,
            &ch.challenge,
            method,
            method,
            now,
        );
        tokens::save_flow_state(c, &flow, now)?;
    }
    tokens::put_ott(c, &user.id, OttType::Recovery, &hash, &user.email, now)?;
    user.recovery_sent_at = Some(now);
    users::save(c, user, now)?;
    mailer::send(st, c, kind, &user.email, &otp, &hash, redirect_to)?;
    Ok(())
}

pub(crate) async fn recover(
    st: St,
    caller: Caller,
    query: QueryMap,
    JsonBody(p): JsonBody<MagicLinkParams>,
) -> ApiResult<Json<Value>> {
    // GoTrue's `requireEmailProvider` middleware, before the body is looked at.
    if !st.config.email_provider {
        return Err(ApiError::bad_request(
            "email_provider_disabled",
            "Email logins are disabled",
        ));
    }
    let email = p.email.unwrap_or_default();
    if email.is_empty() {
        return Err(ApiError::unprocessable(
            "validation_failed",
            "Password recovery requires an email",
        ));
    }
    check_email(&email)?;
    let challenge = pkce::validate(
        p.code_challenge.as_deref(),
        p.code_challenge_method.as_deref(),
    )?;
    let redirect_to = redirect_target(&st, &caller, &query);
    st.store.tx(|c| {
        // Unknown addresses get the same 200, so the endpoint does not reveal accounts.
        if let Some(mut user) = users::find_by_email(c, &email)? {
            send_recovery_like(
                &st,
                c,
                &mut user,
                MailKind::Recovery,
                challenge.as_ref(),
                &redirect_to,
            )?;
        }
        Ok::<_, ApiError>(())
    })?;
    Ok(Json(json!({})))
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ResendParams {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    code_challenge: Option<String>,
    #[serde(default)]
    code_challenge_method: Option<String>,
}

pub(crate) async fn resend(
    st: St,
    caller: Caller,
    query: QueryMap,
    JsonBody(p): JsonBody<ResendParams>,
) -> ApiResult<Json<Value>> {
    let kind = p.kind.unwrap_or_default();
    if !matches!(
        kind.as_str(),
        "signup" | "email_change" | "sms" | "phone_change"
    ) {
        return Err(ApiError::validation(
            "Missing one of these types: signup, email_change, sms, phone_change",
        ));
    }
    if matches!(kind.as_str(), "sms" | "phone_change")
        || p.phone.as_deref().is_some_and(|s| !s.is_empty())
    {
        return super::phone::resend(
            &st,
            &kind,
            p.email.as_deref().unwrap_or(""),
            p.phone.as_deref().unwrap_or(""),
        )
        .map(Json);
    }
    let email = p.email.unwrap_or_default();
    if !email.is_empty() && !st.config.email_provider {
        return Err(ApiError::bad_request(
            "email_provider_disabled",
            "Email logins are disabled",
        ));
    }
    check_email(&email)?;
    let challenge = pkce::validate(
        p.code_challenge.as_deref(),
        p.code_challenge_method.as_deref(),
    )?;
    let redirect_to = redirect_target(&st, &caller, &query);
    st.store.tx(|c| {
        let Some(mut user) = users::find_by_email(c, &email)? else {
            return Ok::<_, ApiError>(());
        };
        match kind.as_str() {
            "signup" if !user.email_confirmed() => {
                send_confirmation(&st, c, &mut user, challenge.as_ref(), &redirect_to)
            }
            "email_change" if !user.new_email.is_empty() => {
                let new_email = user.new_email.clone();
                super::user::send_email_change(
                    &st,
                    c,
                    &mut user,
                    &new_email,
                    challenge.as_ref(),
                    &redirect_to,
                )
            }
            _ => Ok(()),
        }
    })?;
    Ok(Json(json!({})))
}
