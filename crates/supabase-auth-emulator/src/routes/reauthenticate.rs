//! `GET /reauthenticate` sends a nonce; `PUT /user {password, nonce}` spends it
//! (GoTrue's `internal/api/reauthenticate.go`).

use crate::store::Db;
use axum::Json;
use serde_json::{Value, json};

use super::St;
use super::auth::require_user;
use super::error::{ApiError, ApiResult};
use super::extract::Caller;
use crate::mailer;
use crate::state::AppState;
use crate::store::tokens::{self, OttType};
use crate::store::users::{self, UserRecord};
use crate::util::sha224_hex;

/// GoTrue's `InvalidNonceMessage`.
const INVALID_NONCE: &str = "Nonce has expired or is invalid";

/// How old a session may be before a password change needs a nonce (GoTrue hard-codes
/// 24 h in `UserUpdate`).
const RECENT_SESSION_MICROS: i64 = 24 * 60 * 60 * 1_000_000;

pub(crate) async fn reauthenticate(st: St, caller: Caller) -> ApiResult<Json<Value>> {
    st.store.tx(|c| {
        let authed = require_user(&st, c, &caller)?;
        let mut user = authed.user;
        if user.email.is_empty() && user.phone.is_empty() {
            return Err(ApiError::validation(
                "Reauthentication requires the user to have an email or a phone number",
            ));
        }
        if !user.email.is_empty() {
            if !user.email_confirmed() {
                return Err(ApiError::unprocessable(
                    "email_not_confirmed",
                    "Please verify your email first.",
                ));
            }
            return send_nonce(&st, c, &mut user);
        }
        if user.phone_confirmed_at.is_none() {
            return Err(ApiError::unprocessable(
                "phone_not_confirmed",
                "Please verify your phone first.",
            ));
        }
        if !st.config.phone_provider {
            // Without an SMS provider GoTrue fails to text the nonce, as here.
            return Err(ApiError::server_error("Unable to get SMS provider"));
        }
        let phone = user.phone.clone();
        crate::phone::send_otp(
            &st,
            c,
            &mut user,
            &phone,
            crate::phone::PhoneOtp::Reauthentication,
            "sms",
        )
    })?;
    Ok(Json(json!({})))
}

/// `sendReauthenticationOtp`: the per-user frequency limit, a fresh code of
/// `otp_length` digits stored as `sha224(email + code)`, the email.
fn send_nonce(st: &AppState, c: &Db<'_>, user: &mut UserRecord) -> ApiResult<()> {
    mailer::check_frequency(st, user.reauthentication_sent_at)?;
    let now = st.now();
    let (otp, hash) = mailer::new_token(st, &user.email, false);
    tokens::put_ott(
        c,
        &user.id,
        OttType::Reauthentication,
        &hash,
        &user.email,
        now,
    )?;
    user.reauthentication_sent_at = Some(now);
    users::save(c, user, now)?;
    mailer::send_reauthentication(st, c, &user.email, &otp)?;
    Ok(())
}

/// Whether a password change from this session needs a nonce: no session, or one
/// created more than 24 h ago.
pub(super) fn needs_nonce(st: &AppState, session_created_at: Option<i64>) -> bool {
    session_created_at
        .is_none_or(|created| st.now() > created.saturating_add(RECENT_SESSION_MICROS))
}

/// `verifyReauthentication`: the nonce must hash to the stored token and be younger
/// than `otp_exp`; a good one is spent (with every other one-time token of the user).
pub(super) fn verify_nonce(
    st: &AppState,
    c: &Db<'_>,
    user: &UserRecord,
    nonce: &str,
) -> ApiResult<()> {
    let invalid = || ApiError::unprocessable("reauthentication_not_valid", INVALID_NONCE);
    let stored = tokens::ott_hash_for_user(c, &user.id, OttType::Reauthentication)?;
    let (Some(stored), Some(sent_at)) = (stored, user.reauthentication_sent_at) else {
        return Err(invalid());
    };
    let address = if !user.email.is_empty() {
        user.email.as_str()
    } else if !user.phone.is_empty() {
        user.phone.as_str()
    } else {
        return Err(ApiError::unprocessable(
            "reauthentication_not_valid",
            "Reauthentication requires an email or a phone number",
        ));
    };
    // `Mailer.OtpExp` for an emailed nonce, `Sms.OtpExp` for a texted one.
    let exp = if user.email.is_empty() {
        st.config.sms_otp_exp
    } else {
        st.config.otp_exp
    };
    let exp = i64::try_from(exp.as_micros()).unwrap_or(i64::MAX);
    let expired = st.now() > sent_at.saturating_add(exp);
    let hash = sha224_hex(&format!("{address}{nonce}"));
    let matches = stored == hash || stored == format!("pkce_{hash}");
    if expired || !matches {
        return Err(invalid());
    }
    // `ConfirmReauthentication` clears the token and every one-time token of the user.
    tokens::clear_otts(c, &user.id)?;
    Ok(())
}
