//! Phone numbers and SMS codes, as GoTrue's `internal/api/phone.go`: the number check,
//! the channel check and `sendPhoneConfirmation`, with the inbox as the SMS provider.

use crate::store::{Db, DbResult};

use crate::mailer;
use crate::routes::error::ApiError;
use crate::state::AppState;
use crate::store::tokens::{self, OttType};
use crate::store::users::{self, UserRecord};
use crate::util::{otp_code, sha224_hex};

/// Digits of an SMS code: the Supabase CLI sets `GOTRUE_SMS_OTP_LENGTH=6`.
const SMS_OTP_LENGTH: usize = 6;

/// GoTrue's `InvalidChannelError`.
pub(crate) const INVALID_CHANNEL: &str = "Invalid channel, supported values are 'sms' or 'whatsapp'. 'whatsapp' is only supported if Twilio or Twilio Verify is used as the provider.";

/// `formatPhoneNumber` then `validateE164Format`: one leading `+` and every space
/// dropped, then `^[1-9][0-9]{1,14}$`. Nothing else (dashes, brackets) is removed.
pub(crate) fn normalize(raw: &str) -> Option<String> {
    let digits = raw.strip_prefix('+').unwrap_or(raw).replace(' ', "");
    let bytes = digits.as_bytes();
    let valid = (2..=15).contains(&bytes.len())
        && bytes.first().is_some_and(|b| (b'1'..=b'9').contains(b))
        && bytes.iter().all(u8::is_ascii_digit);
    valid.then_some(digits)
}

/// `validatePhone`: the normalised number, or 400 `validation_failed`.
pub(crate) fn validate(raw: &str) -> Result<String, ApiError> {
    normalize(raw)
        .ok_or_else(|| ApiError::validation("Invalid phone number format (E.164 required)"))
}

/// `IsValidMessageChannel` without a Twilio provider or an SMS hook: `sms` only (an
/// empty channel means `sms`, as GoTrue defaults it); `whatsapp` is refused.
pub(crate) fn channel(requested: Option<&str>) -> Result<String, ApiError> {
    match requested.unwrap_or("") {
        "" | "sms" => Ok("sms".into()),
        _ => Err(ApiError::validation(INVALID_CHANNEL)),
    }
}

/// What an SMS code is for; the `kind` of the inbox message is the `/verify` type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PhoneOtp {
    /// Sign-up confirmation and sign-in (`confirmation_token`, type `sms`).
    Confirmation,
    /// A new number (`phone_change_token`, type `phone_change`).
    PhoneChange,
    /// The nonce of `GET /reauthenticate` for a user without an email.
    Reauthentication,
}

/// `sendPhoneConfirmation`: the frequency check on the kind's `*_sent_at`, a fresh
/// code whose hash (`sha224(phone + code)`) is kept as a one-time token, the user's
/// `*_sent_at` (and `new_phone` for a change) saved, and the SMS put in the inbox.
pub(crate) fn send_otp(
    st: &AppState,
    c: &Db<'_>,
    user: &mut UserRecord,
    phone: &str,
    purpose: PhoneOtp,
    channel: &str,
) -> Result<(), ApiError> {
    let last = match purpose {
        PhoneOtp::Confirmation => user.confirmation_sent_at,
        PhoneOtp::PhoneChange => user.phone_change_sent_at,
        PhoneOtp::Reauthentication => user.reauthentication_sent_at,
    };
    mailer::check_window(
        st,
        last,
        st.config.sms_max_frequency,
        "over_sms_send_rate_limit",
    )?;
    let now = st.now();
    let otp = otp_code(SMS_OTP_LENGTH);
    let hash = sha224_hex(&format!("{phone}{otp}"));
    let (ott, kind) = match purpose {
        PhoneOtp::Confirmation => {
            user.confirmation_sent_at = Some(now);
            (OttType::Confirmation, "sms")
        }
        PhoneOtp::PhoneChange => {
            user.new_phone = phone.to_string();
            user.phone_change_sent_at = Some(now);
            (OttType::PhoneChange, "phone_change")
        }
        PhoneOtp::Reauthentication => {
            user.reauthentication_sent_at = Some(now);
            (OttType::Reauthentication, "reauthentication")
        }
    };
    tokens::put_ott(c, &user.id, ott, &hash, phone, now)?;
    users::save(c, user, now)?;
    mailer::send_sms(st, c, kind, phone, &otp, channel)?;
    Ok(())
}

/// Whether `token` is the live SMS code of `purpose` for `user` at `phone`
/// (`isOtpValid` with `GOTRUE_SMS_OTP_EXP`).
pub(crate) fn code_matches(
    st: &AppState,
    c: &Db<'_>,
    user: &UserRecord,
    phone: &str,
    token: &str,
    purpose: PhoneOtp,
) -> DbResult<bool> {
    let hash = sha224_hex(&format!("{phone}{token}"));
    let pkce = format!("pkce_{hash}");
    let ott = match purpose {
        PhoneOtp::Confirmation => OttType::Confirmation,
        PhoneOtp::PhoneChange => OttType::PhoneChange,
        PhoneOtp::Reauthentication => OttType::Reauthentication,
    };
    let exp = i64::try_from(st.config.sms_otp_exp.as_micros()).unwrap_or(i64::MAX);
    Ok(tokens::find_ott(c, ott, &[hash.as_str(), pkce.as_str()])?
        .is_some_and(|t| t.user_id == user.id && st.now() <= t.created_at.saturating_add(exp)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_is_gotrues_format_and_e164_check() {
        assert_eq!(normalize("+15555550100").as_deref(), Some("15555550100"));
        assert_eq!(normalize("+1 555 555 0100").as_deref(), Some("15555550100"));
        assert_eq!(normalize(" 15555550100").as_deref(), Some("15555550100"));
        assert_eq!(normalize("12").as_deref(), Some("12"));
        assert_eq!(normalize("1234567890123456"), None);
        assert_eq!(normalize("+1-555-555-0100"), None);
        assert_eq!(normalize("0123456789"), None);
        assert_eq!(normalize("++15555550100"), None);
        assert_eq!(normalize("1"), None);
        assert_eq!(normalize(""), None);
        assert_eq!(normalize("+١٢٣"), None);
    }

    #[test]
    fn only_the_sms_channel_without_twilio() {
        assert_eq!(channel(None).ok().as_deref(), Some("sms"));
        assert_eq!(channel(Some("")).ok().as_deref(), Some("sms"));
        assert_eq!(channel(Some("sms")).ok().as_deref(), Some("sms"));
        assert!(channel(Some("whatsapp")).is_err());
        assert!(channel(Some("SMS")).is_err());
    }
}
