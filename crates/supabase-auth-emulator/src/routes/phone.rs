//! The phone halves of `POST /signup`, `POST /otp`, `POST /verify` and `PUT /user`,
//! as GoTrue's `signup.go`, `otp.go` (`SmsOtp`) and `verify.go` (`smsVerify`).

use crate::store::{Db, DbResult};
use serde_json::{Map, Value, json};

use super::error::{ApiError, ApiResult};
use super::extract::Caller;
use crate::phone::{self, PhoneOtp};
use crate::session::{self, Extras};
use crate::state::AppState;
use crate::store::tokens;
use crate::store::user_json::user_json;
use crate::store::users::{self, IdentityRecord, UserRecord};

/// The answer of a phone sign-up.
pub(super) enum Signup {
    /// Confirmed (autoconfirm): a session.
    Session(Value),
    /// A code went out: the user.
    User(Value),
    /// The number belongs to a confirmed user.
    Exists(Box<UserRecord>),
}

/// `POST /signup` with `phone` once the shared checks passed (password, strength,
/// channel, PKCE). `phone` is raw; `channel` is checked.
pub(super) async fn signup(
    st: &AppState,
    caller: &Caller,
    raw_phone: &str,
    password: String,
    data: Map<String, Value>,
    channel: &str,
) -> ApiResult<Value> {
    if !st.config.phone_provider {
        return Err(ApiError::bad_request(
            "phone_provider_disabled",
            "Phone signups are disabled",
        ));
    }
    let phone = phone::validate(raw_phone)?;
    match signup_validated(st, caller, &phone, password, data.clone(), channel).await? {
        Signup::Session(v) | Signup::User(v) => Ok(v),
        Signup::Exists(_) if st.config.autoconfirm || st.config.phone_autoconfirm => Err(
            ApiError::unprocessable("user_already_exists", "User already registered"),
        ),
        Signup::Exists(user) => Ok(super::signup::obfuscated_user(st, &user, data, "phone")),
    }
}

/// GoTrue's `Signup` for a validated number: a new user (or the unconfirmed one with
/// that number, left as it is) gets a `phone` identity, then is confirmed at once
/// (`GOTRUE_SMS_AUTOCONFIRM`) and answered a session, or sent a code and answered.
async fn signup_validated(
    st: &AppState,
    caller: &Caller,
    phone: &str,
    password: String,
    data: Map<String, Value>,
    channel: &str,
) -> ApiResult<Signup> {
    let existing = st.store.tx(|c| users::find_by_phone(c, phone))?;
    if let Some(user) = existing.as_ref().filter(|u| u.phone_confirmed_at.is_some()) {
        return Ok(Signup::Exists(Box::new(user.clone())));
    }
    // GoTrue hashes only for a new user (`ToUserModel`).
    let hashed = match existing {
        Some(_) => None,
        None => Some(crate::password::hash(password, st.config.bcrypt_cost).await?),
    };
    st.store.tx(|c| {
        let now = st.now();
        let mut user = match users::find_by_phone(c, phone)? {
            Some(u) if u.phone_confirmed_at.is_some() => return Ok(Signup::Exists(Box::new(u))),
            Some(u) => u,
            None => {
                let mut user = UserRecord::new(now);
                user.phone = phone.to_string();
                user.encrypted_password = hashed.clone();
                user.user_metadata = data.clone();
                user.set_sole_provider("phone");
                users::insert(c, &user)
                    .map_err(ApiError::database(super::signup::SAVING_NEW_USER))?;
                user
            }
        };
        ensure_phone_identity(c, &mut user, data, now)?;
        if user.phone_confirmed_at.is_none() {
            if st.config.phone_autoconfirm {
                confirm_phone(c, &mut user, now)?;
            } else {
                phone::send_otp(st, c, &mut user, phone, PhoneOtp::Confirmation, channel)?;
            }
        }
        users::save(c, &mut user, now)?;
        if user.email_confirmed() || user.phone_confirmed_at.is_some() {
            let m = session::issue(
                st,
                c,
                &mut user,
                "password",
                caller.user_agent.as_deref(),
                Extras::default(),
            )?;
            return Ok(Signup::Session(Value::Object(m)));
        }
        let mut body = user_json(c, &user)?;
        if user.invited_at.is_some()
            && let Value::Object(m) = &mut body
        {
            m.insert("user_metadata".into(), json!({}));
            m.insert("identities".into(), json!([]));
        }
        Ok(Signup::User(body))
    })
}

/// The `phone` identity signup expects (`provider_id` = user id). When missing it is
/// created from `structs.Map(Claims{Subject, Email})` plus `data`, becomes the only
/// identity, and its data the user's metadata (`RemoveUnconfirmedIdentities`).
fn ensure_phone_identity(
    c: &Db<'_>,
    user: &mut UserRecord,
    data: Map<String, Value>,
    now: i64,
) -> DbResult<()> {
    let identities = users::identities(c, &user.id)?;
    if identities
        .iter()
        .any(|i| i.provider == "phone" && i.provider_id == user.id)
    {
        return Ok(());
    }
    let mut identity_data = Map::new();
    identity_data.insert("sub".into(), json!(user.id));
    if !user.email.is_empty() {
        identity_data.insert("email".into(), json!(user.email));
    }
    identity_data.insert("email_verified".into(), json!(false));
    identity_data.insert("phone_verified".into(), json!(false));
    for (k, v) in data {
        identity_data.entry(k).or_insert(v);
    }
    let identity = IdentityRecord::new(&user.id, "phone", &user.id, identity_data, now);
    users::delete_identities(c, &user.id)?;
    users::upsert_identity(c, &identity)?;
    user.user_metadata = identity.identity_data;
    users::refresh_providers(c, user)
}

/// `User.ConfirmPhone`: confirmed now, pending codes voided.
fn confirm_phone(c: &Db<'_>, user: &mut UserRecord, now: i64) -> DbResult<()> {
    user.phone_confirmed_at = Some(now);
    tokens::clear_otts(c, &user.id)
}

/// `SmsOtp`, after `/otp`'s own checks: a number without a confirmed user is signed
/// up with a random password (and, under autoconfirm, confirmed and then sent a
/// code); a confirmed one is sent a code. Answers `{}` (GoTrue's `message_id` stays
/// empty for a real provider).
pub(super) async fn otp(
    st: &AppState,
    caller: &Caller,
    raw_phone: &str,
    requested_channel: Option<&str>,
    data: Map<String, Value>,
) -> ApiResult<Value> {
    if !st.config.phone_provider {
        return Err(ApiError::bad_request(
            "phone_provider_disabled",
            "Unsupported phone provider",
        ));
    }
    let phone = phone::validate(raw_phone)?;
    let channel = phone::channel(requested_channel)?;
    let existing = st.store.tx(|c| users::find_by_phone(c, &phone))?;
    if existing.is_none_or(|u| u.phone_confirmed_at.is_none()) {
        if st.config.disable_signup {
            return Err(ApiError::unprocessable(
                "signup_disabled",
                "Signups not allowed for this instance",
            ));
        }
        let password = crate::util::random_alnum(64);
        signup_validated(st, caller, &phone, password, data, &channel).await?;
        if !st.config.phone_autoconfirm {
            return Ok(json!({}));
        }
    }
    st.store.tx(|c| {
        let mut user = users::find_by_phone(c, &phone)?.ok_or_else(ApiError::internal)?;
        phone::send_otp(st, c, &mut user, &phone, PhoneOtp::Confirmation, &channel)?;
        Ok::<_, ApiError>(json!({}))
    })
}

fn otp_expired() -> ApiError {
    ApiError::forbidden("otp_expired", "Token has expired or is invalid")
}

/// `verifyUserAndToken` and `smsVerify` for types `sms` and `phone_change`: the user
/// found by number (by pending number for a change), the code checked, then the
/// number confirmed (or the change made, its `phone` identity created or updated),
/// the user no longer anonymous. `phone` is validated.
pub(super) fn verify(
    st: &AppState,
    c: &Db<'_>,
    kind: &str,
    phone: &str,
    token: &str,
) -> ApiResult<UserRecord> {
    let change = kind == "phone_change";
    let (purpose, found) = if change {
        (PhoneOtp::PhoneChange, users::find_by_new_phone(c, phone)?)
    } else {
        (PhoneOtp::Confirmation, users::find_by_phone(c, phone)?)
    };
    let mut user = found.ok_or_else(otp_expired)?;
    let now = st.now();
    if user.is_banned(now) {
        return Err(ApiError::forbidden("user_banned", "User is banned"));
    }
    if !phone::code_matches(st, c, &user, phone, token, purpose)? {
        return Err(otp_expired());
    }
    if change {
        confirm_phone_change(c, &mut user, now)?;
    } else {
        confirm_phone(c, &mut user, now)?;
    }
    user.is_anonymous = false;
    users::refresh_providers(c, &mut user)?;
    users::save(c, &mut user, now)?;
    Ok(user)
}

/// `smsVerify` for `phone_change` then `User.ConfirmPhoneChange`.
fn confirm_phone_change(c: &Db<'_>, user: &mut UserRecord, now: i64) -> DbResult<()> {
    let phone = std::mem::take(&mut user.new_phone);
    match users::find_identity(c, "phone", &user.id)? {
        Some(mut identity) if identity.user_id == user.id => {
            identity.identity_data.insert("phone".into(), json!(phone));
            identity
                .identity_data
                .insert("phone_verified".into(), json!(true));
            identity.updated_at = now;
            users::upsert_identity(c, &identity)?;
        }
        _ => {
            // `structs.Map(Claims{Subject, Phone, PhoneVerified: true})`.
            let mut data = Map::new();
            data.insert("sub".into(), json!(user.id));
            data.insert("email_verified".into(), json!(false));
            data.insert("phone".into(), json!(phone));
            data.insert("phone_verified".into(), json!(true));
            let identity = IdentityRecord::new(&user.id, "phone", &user.id, data, now);
            users::upsert_identity(c, &identity)?;
        }
    }
    user.phone = phone;
    user.phone_confirmed_at = Some(now);
    tokens::clear_otts(c, &user.id)
}

/// `PUT /user {phone}` for a number other than the user's (validated, free): under
/// autoconfirm the change is made at once, otherwise a code goes to the new number.
pub(super) fn change(
    st: &AppState,
    c: &Db<'_>,
    user: &mut UserRecord,
    phone: &str,
    channel: &str,
) -> ApiResult<()> {
    let now = st.now();
    if st.config.phone_autoconfirm {
        user.new_phone = phone.to_string();
        confirm_phone_change(c, user, now)?;
        user.is_anonymous = false;
        users::refresh_providers(c, user)?;
        users::save(c, user, now)?;
        return Ok(());
    }
    phone::send_otp(st, c, user, phone, PhoneOtp::PhoneChange, channel)
}

/// `POST /resend` for types `sms` and `phone_change`, or with a `phone`
/// (`ResendConfirmationParams.Validate`, then `Resend`): an unknown user, a confirmed
/// number or no pending change is answered `{}` without a message.
pub(super) fn resend(st: &AppState, kind: &str, email: &str, raw_phone: &str) -> ApiResult<Value> {
    if raw_phone.is_empty() && kind == "sms" {
        return Err(ApiError::validation(
            "Type provided requires a phone number",
        ));
    }
    if email.is_empty() && kind == "signup" {
        return Err(ApiError::validation(
            "Type provided requires an email address",
        ));
    }
    if !email.is_empty() && !raw_phone.is_empty() {
        return Err(ApiError::validation(
            "Only an email address or phone number should be provided.",
        ));
    }
    let found = if !email.is_empty() {
        if !st.config.email_provider {
            return Err(ApiError::bad_request(
                "email_provider_disabled",
                "Email logins are disabled",
            ));
        }
        super::signup::check_email(email)?;
        st.store.tx(|c| users::find_by_email(c, email))?
    } else {
        if raw_phone.is_empty() {
            return Err(ApiError::validation(
                "Missing email address or phone number",
            ));
        }
        if !st.config.phone_provider {
            return Err(ApiError::bad_request(
                "phone_provider_disabled",
                "Phone logins are disabled",
            ));
        }
        let phone = phone::validate(raw_phone)?;
        st.store.tx(|c| users::find_by_phone(c, &phone))?
    };
    let Some(found) = found else {
        return Ok(json!({}));
    };
    st.store.tx(|c| {
        let Some(mut user) = users::get(c, &found.id)? else {
            return Ok(json!({}));
        };
        match kind {
            "sms" if user.phone_confirmed_at.is_none() => {
                let phone = user.phone.clone();
                phone::send_otp(st, c, &mut user, &phone, PhoneOtp::Confirmation, "sms")?;
            }
            "phone_change" if !user.new_phone.is_empty() => {
                let phone = user.new_phone.clone();
                phone::send_otp(st, c, &mut user, &phone, PhoneOtp::PhoneChange, "sms")?;
            }
            _ => {}
        }
        Ok::<_, ApiError>(json!({}))
    })
}
