//! `POST /signup`: email/password signup and anonymous sign-in (phone sign-up is in
//! `phone.rs`).

use crate::store::{Db, DbResult};
use axum::Json;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::St;
use super::error::{ApiError, ApiResult};
use super::extract::{Caller, JsonBody, QueryMap};
use crate::mailer::{self, MailKind};
use crate::pkce;
use crate::session::{self, Extras};
use crate::state::AppState;
use crate::store::tokens::{self, FlowState, OttType};
use crate::store::user_json::{user_json, user_map};
use crate::store::users::{self, IdentityRecord, UserRecord};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct SignupParams {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    code_challenge: Option<String>,
    #[serde(default)]
    code_challenge_method: Option<String>,
}

/// The `data` object (anything else counts as empty).
pub(super) fn data_map(data: Option<Value>) -> Map<String, Value> {
    match data {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// The redirect target of a request: `redirect_to` header, query, then `Referer`,
/// validated against the allow list (else the site URL).
pub(super) fn redirect_target(st: &AppState, caller: &Caller, query: &QueryMap) -> String {
    let candidate = caller
        .redirect_header
        .as_deref()
        .filter(|s| !s.is_empty())
        .or_else(|| query.get("redirect_to"))
        .or(caller.referer.as_deref());
    crate::redirect::or_site_url(&st.config, candidate)
}

/// A new user with an email identity whose data becomes `user_metadata`
/// (GoTrue's signup); not inserted yet.
pub(super) fn new_email_user(
    email: &str,
    encrypted_password: Option<String>,
    data: Map<String, Value>,
    now: i64,
) -> (UserRecord, IdentityRecord) {
    let mut user = UserRecord::new(now);
    user.email = email.to_lowercase();
    user.encrypted_password = encrypted_password;
    user.set_sole_provider("email");
    let identity_data = email_identity_data(&user.id, &user.email, data);
    user.user_metadata = identity_data.clone();
    let identity = IdentityRecord::new(&user.id, "email", &user.id, identity_data, now);
    (user, identity)
}

/// A new email identity's data: `structs.Map(provider.Claims{Subject, Email})` (so both
/// `*_verified` flags, false) plus the signup `data` where it does not clash.
fn email_identity_data(id: &str, email: &str, data: Map<String, Value>) -> Map<String, Value> {
    let mut identity_data = Map::new();
    identity_data.insert("sub".into(), json!(id));
    identity_data.insert("email".into(), json!(email));
    identity_data.insert("email_verified".into(), json!(false));
    identity_data.insert("phone_verified".into(), json!(false));
    for (k, v) in data {
        identity_data.entry(k).or_insert(v);
    }
    identity_data
}

/// GoTrue's message when storing a new user fails (`signupNewUser`), as an
/// application's trigger on `auth.users` can make it.
pub(super) const SAVING_NEW_USER: &str = "Database error saving new user";

/// Inserts a user and its identity.
pub(super) fn insert_with_identity(
    c: &Db<'_>,
    user: &UserRecord,
    identity: &IdentityRecord,
) -> ApiResult<()> {
    users::insert(c, user)
        .and_then(|()| users::upsert_identity(c, identity))
        .map_err(ApiError::database(SAVING_NEW_USER))
}

/// Validates an email address the way signup does (400 `validation_failed`).
pub(super) fn check_email(email: &str) -> ApiResult<()> {
    crate::util::validate_email(email).map_err(|reason| match reason {
        "invalid format" => {
            ApiError::validation(format!("Unable to validate email address: {reason}"))
        }
        other => ApiError::validation(other),
    })
}

/// Sends a (new) confirmation email, creating a PKCE flow state when asked.
pub(super) fn send_confirmation(
    st: &AppState,
    c: &Db<'_>,
    user: &mut UserRecord,
    challenge: Option<&pkce::Challenge>,
    redirect_to: &str,
) -> ApiResult<()> {
    mailer::check_frequency(st, user.confirmation_sent_at)?;
    let now = st.now();
    let (otp, hash) = mailer::new_token(st, &user.email, challenge.is_some());
    if let Some(ch) = challenge {
        let flow = FlowState::new(
            Some(&user.id),
            &ch.method,
            &ch.challenge,
            "email",
            "email/signup",
            now,
        );
        tokens::save_flow_state(c, &flow, now)?;
    }
    tokens::put_ott(c, &user.id, OttType::Confirmation, &hash, &user.email, now)?;
    user.confirmation_sent_at = Some(now);
    users::save(c, user, now)?;
    mailer::send(
        st,
        c,
        MailKind::Signup,
        &user.email,
        &otp,
        &hash,
        redirect_to,
    )?;
    Ok(())
}

pub(crate) async fn signup(
    st: St,
    caller: Caller,
    query: QueryMap,
    JsonBody(p): JsonBody<SignupParams>,
) -> ApiResult<Json<Value>> {
    let email = p.email.clone().unwrap_or_default();
    let phone = p.phone.clone().unwrap_or_default();
    if email.is_empty() && phone.is_empty() {
        return anonymous(&st, &caller, p.data).map(Json);
    }
    if st.config.disable_signup {
        return Err(ApiError::unprocessable(
            "signup_disabled",
            "Signups not allowed for this instance",
        ));
    }
    let password = p.password.clone().unwrap_or_default();
    if password.is_empty() {
        return Err(ApiError::validation("Signup requires a valid password"));
    }
    crate::password::check_length(&password)?;
    crate::password::check_strength(&password)?;
    if !email.is_empty() && !phone.is_empty() {
        return Err(ApiError::validation(
            "Only an email address or phone number should be provided on signup.",
        ));
    }
    if email.is_empty() {
        let channel = crate::phone::channel(p.channel.as_deref())?;
        if p.code_challenge.as_deref().is_some_and(|c| !c.is_empty()) {
            return Err(ApiError::validation("PKCE not supported for phone signups"));
        }
        pkce::validate(None, p.code_challenge_method.as_deref())?;
        return super::phone::signup(&st, &caller, &phone, password, data_map(p.data), &channel)
            .await
            .map(Json);
    }
    let challenge = pkce::validate(
        p.code_challenge.as_deref(),
        p.code_challenge_method.as_deref(),
    )?;
    if !st.config.email_provider {
        return Err(ApiError::bad_request(
            "email_provider_disabled",
            "Email signups are disabled",
        ));
    }
    check_email(&email)?;
    let redirect_to = redirect_target(&st, &caller, &query);
    let data = data_map(p.data);

    let existing = st.store.tx(|c| users::find_by_email(c, &email))?;
    if let Some(mut user) = existing {
        if user.email_confirmed() {
            if st.config.autoconfirm {
                return Err(ApiError::unprocessable(
                    "user_already_exists",
                    "User already registered",
                ));
            }
            return Ok(Json(obfuscated_user(&st, &user, data, "email")));
        }
        return signup_unconfirmed(
            &st,
            &caller,
            &mut user,
            data,
            challenge.as_ref(),
            &redirect_to,
        )
        .map(Json);
    }

    let hashed = crate::password::hash(password, st.config.bcrypt_cost).await?;
    let now = st.now();
    let (mut user, identity) = new_email_user(&email, Some(hashed), data, now);
    let body = st.store.tx(|c| {
        if users::find_by_email(c, &email)?.is_some() {
            return Err(ApiError::unprocessable(
                "user_already_exists",
                "User already registered",
            ));
        }
        insert_with_identity(c, &user, &identity)?;
        if st.config.autoconfirm {
            user.confirm_email(now);
            users::save(c, &mut user, now)?;
            let m = session::issue(
                &st,
                c,
                &mut user,
                "password",
                caller.user_agent.as_deref(),
                Extras::default(),
            )?;
            Ok(Value::Object(m))
        } else {
            send_confirmation(&st, c, &mut user, challenge.as_ref(), &redirect_to)?;
            Ok(user_json(c, &user)?)
        }
    })?;
    Ok(Json(body))
}

/// A signup for an address whose user exists unconfirmed (invited, created by an admin,
/// or an earlier signup). GoTrue leaves the row alone ("we can't be sure of their
/// claimed identity"), so this request's password and `data` are not stored. With
/// autoconfirm the address is confirmed and a session answered (the user keeps no
/// password if they had none); without, a new confirmation goes out.
fn signup_unconfirmed(
    st: &AppState,
    caller: &Caller,
    user: &mut UserRecord,
    data: Map<String, Value>,
    challenge: Option<&pkce::Challenge>,
    redirect_to: &str,
) -> ApiResult<Value> {
    st.store.tx(|c| {
        let now = st.now();
        ensure_email_identity(c, user, data, now)?;
        if st.config.autoconfirm {
            // `User.Confirm`: confirmed now, and the pending invite or confirmation voided.
            user.confirm_email(now);
            tokens::clear_otts(c, &user.id)?;
            users::save(c, user, now)?;
            let m = session::issue(
                st,
                c,
                user,
                "password",
                caller.user_agent.as_deref(),
                Extras::default(),
            )?;
            return Ok(Value::Object(m));
        }
        send_confirmation(st, c, user, challenge, redirect_to)?;
        let mut body = user_json(c, user)?;
        if user.invited_at.is_some()
            && let Value::Object(m) = &mut body
        {
            // GoTrue strips an invited user's metadata and identities from this answer.
            m.insert("user_metadata".into(), json!({}));
            m.insert("identities".into(), json!([]));
        }
        Ok(body)
    })
}

/// Gives an unconfirmed user the email identity signup expects: when missing, one is
/// created from the address and `data`, and it becomes the only identity, its data the
/// user's metadata (`RemoveUnconfirmedIdentities`).
fn ensure_email_identity(
    c: &Db<'_>,
    user: &mut UserRecord,
    data: Map<String, Value>,
    now: i64,
) -> DbResult<()> {
    let identities = users::identities(c, &user.id)?;
    if identities.iter().any(|i| i.provider == "email") {
        return Ok(());
    }
    let identity_data = email_identity_data(&user.id, &user.email, data);
    let identity = IdentityRecord::new(&user.id, "email", &user.id, identity_data, now);
    users::delete_identities(c, &user.id)?;
    users::upsert_identity(c, &identity)?;
    user.user_metadata = identity.identity_data;
    users::refresh_providers(c, user)
}

/// The fake user GoTrue returns for a repeated signup of a confirmed address or number
/// (`sanitizeUser`), so that signups do not reveal which are registered. `provider` is
/// `email` or `phone`: the fake carries only that identifier of the real user.
pub(super) fn obfuscated_user(
    st: &AppState,
    real: &UserRecord,
    data: Map<String, Value>,
    provider: &str,
) -> Value {
    let now = st.now();
    let mut fake = UserRecord::new(now);
    fake.role = String::new();
    if provider == "phone" {
        fake.phone = real.phone.clone();
    } else {
        fake.email = real.email.clone();
    }
    fake.aud = real.aud.clone();
    fake.confirmation_sent_at = Some(now);
    fake.user_metadata = data;
    fake.set_sole_provider(provider);
    Value::Object(user_map(&fake, &[], &[]))
}

fn anonymous(st: &AppState, caller: &Caller, data: Option<Value>) -> ApiResult<Value> {
    if !st.config.anonymous_sign_ins {
        return Err(ApiError::unprocessable(
            "anonymous_provider_disabled",
            "Anonymous sign-ins are disabled",
        ));
    }
    if st.config.disable_signup {
        return Err(ApiError::unprocessable(
            "signup_disabled",
            "Signups not allowed for this instance",
        ));
    }
    let now = st.now();
    let mut user = UserRecord::new(now);
    user.is_anonymous = true;
    user.user_metadata = data_map(data);
    st.store.tx(|c| {
        users::insert(c, &user)
            .map_err(ApiError::database("Database error creating anonymous user"))?;
        let m = session::issue(
            st,
            c,
            &mut user,
            "anonymous",
            caller.user_agent.as_deref(),
            Extras::default(),
        )?;
        Ok(Value::Object(m))
    })
}
