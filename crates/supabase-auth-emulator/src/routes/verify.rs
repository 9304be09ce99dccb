//! `POST /verify` (returns a session) and `GET /verify` (the email link: 303 redirect).
//! SMS codes (`sms`, `phone_change`) are checked in `phone.rs`.

use crate::store::{Db, DbResult};
use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::St;
use super::error::{ApiError, ApiResult};
use super::extract::{Caller, JsonBody, QueryMap};
use super::user::apply_email_change;
use crate::session::{self, Extras};
use crate::state::AppState;
use crate::store::tokens::{self, Ott, OttType};
use crate::store::users::{self, UserRecord};
use crate::util::{sha224_hex, validate_email};

const EMAIL_CHANGE_FIRST: &str =
    "Confirmation link accepted. Please proceed to confirm link sent to the other email";

/// The result of consuming a token.
enum Verified {
    /// The user is verified; `kind` is the effective type (`email` resolved).
    User {
        user: Box<UserRecord>,
        kind: &'static str,
    },
    /// First half of a secure email change.
    EmailChangeFirst,
}

fn token_kinds(kind: &str) -> Option<(&'static str, &'static [OttType])> {
    Some(match kind {
        "signup" => ("signup", &[OttType::Confirmation]),
        "invite" => ("invite", &[OttType::Confirmation]),
        "magiclink" => ("magiclink", &[OttType::Recovery]),
        "recovery" => ("recovery", &[OttType::Recovery]),
        "email" => ("email", &[OttType::Confirmation, OttType::Recovery]),
        "email_change" => (
            "email_change",
            &[OttType::EmailChangeNew, OttType::EmailChangeCurrent],
        ),
        _ => return None,
    })
}

/// Finds a live token; resolves `email` to `signup`/`magiclink` as GoTrue does.
fn find_token(
    st: &AppState,
    c: &Db<'_>,
    kind: &str,
    hashes: &[&str],
) -> DbResult<Option<(Ott, OttType, &'static str)>> {
    let Some((name, kinds)) = token_kinds(kind) else {
        return Ok(None);
    };
    let exp = i64::try_from(st.config.otp_exp.as_micros()).unwrap_or(i64::MAX);
    for k in kinds {
        if let Some(t) = tokens::find_ott(c, *k, hashes)? {
            if st.now() > t.created_at.saturating_add(exp) {
                return Ok(None);
            }
            let resolved = match (name, k) {
                ("email", OttType::Confirmation) => "signup",
                ("email", _) => "magiclink",
                _ => name,
            };
            return Ok(Some((t, *k, resolved)));
        }
    }
    Ok(None)
}

/// Marks the email (and the email identity) verified.
fn confirm(c: &Db<'_>, user: &mut UserRecord, now: i64) -> DbResult<()> {
    if !user.email_confirmed() {
        user.confirm_email(now);
    }
    for mut identity in users::identities(c, &user.id)?
        .into_iter()
        .filter(|i| i.provider == "email")
    {
        identity
            .identity_data
            .insert("email_verified".into(), json!(true));
        identity.updated_at = now;
        users::upsert_identity(c, &identity)?;
    }
    Ok(())
}

/// Applies the effects of a verified token.
fn consume(
    st: &AppState,
    c: &Db<'_>,
    token: &Ott,
    ott_type: OttType,
    kind: &'static str,
) -> ApiResult<Verified> {
    let now = st.now();
    let mut user = users::get(c, &token.user_id)?
        .ok_or_else(|| otp_expired("Token has expired or is invalid"))?;
    if user.is_banned(now) {
        return Err(ApiError::forbidden("user_banned", "User is banned"));
    }
    match kind {
        "email_change" => {
            // GoTrue holds a secure change at the first confirmation only when
            // autoconfirm is off (`emailChangeVerify`; supabase/auth#2600): with it
            // on, either link or code completes the change and voids the other.
            if !st.config.autoconfirm
                && st.config.secure_email_change
                && user.email_change_confirm_status == 0
                && !user.email.is_empty()
            {
                user.email_change_confirm_status = 1;
                tokens::clear_ott(c, &user.id, ott_type)?;
                users::save(c, &mut user, now)?;
                return Ok(Verified::EmailChangeFirst);
            }
            if user.new_email.is_empty() {
                return Err(otp_expired("Token has expired or is invalid"));
            }
            apply_email_change(c, &mut user, now)?;
        }
        _ => confirm(c, &mut user, now)?,
    }
    tokens::clear_otts(c, &user.id)?;
    users::refresh_providers(c, &mut user)?;
    users::save(c, &mut user, now)?;
    Ok(Verified::User {
        user: Box::new(user),
        kind,
    })
}

fn otp_expired(msg: &str) -> ApiError {
    ApiError::forbidden("otp_expired", msg)
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct VerifyParams {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    token_hash: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    redirect_to: Option<String>,
}

pub(crate) async fn verify_post(
    st: St,
    caller: Caller,
    JsonBody(p): JsonBody<VerifyParams>,
) -> ApiResult<Json<Value>> {
    let kind = p.kind.unwrap_or_default();
    let token = p.token.unwrap_or_default();
    let token_hash = p.token_hash.unwrap_or_default();
    let email = p.email.unwrap_or_default();
    let phone = p.phone.unwrap_or_default();
    if kind.is_empty() {
        return Err(ApiError::validation("Verify requires a verification type"));
    }
    if token.is_empty() == token_hash.is_empty() {
        return Err(ApiError::validation(
            "Verify requires either a token or a token hash",
        ));
    }
    let (hashes, not_found_msg) = if !token.is_empty() {
        if email.is_empty() == phone.is_empty() {
            return Err(ApiError::validation(
                "Only an email address or phone number should be provided on verify",
            ));
        }
        let hash = if !email.is_empty() {
            if validate_email(&email).is_err() {
                return Err(ApiError::unprocessable(
                    "validation_failed",
                    "Invalid email format",
                ));
            }
            sha224_hex(&format!("{}{token}", email.to_lowercase()))
        } else {
            let phone = crate::phone::validate(&phone)?;
            if matches!(kind.as_str(), "sms" | "phone_change") {
                return verify_phone(&st, &caller, &kind, &phone, &token).map(Json);
            }
            sha224_hex(&format!("{phone}{token}"))
        };
        (
            vec![format!("pkce_{hash}"), hash],
            "Token has expired or is invalid",
        )
    } else {
        if !email.is_empty()
            || !phone.is_empty()
            || p.redirect_to.as_deref().is_some_and(|s| !s.is_empty())
        {
            return Err(ApiError::validation(
                "Only the token_hash and type should be provided",
            ));
        }
        (vec![token_hash], "Email link is invalid or has expired")
    };
    if token_kinds(&kind).is_none() {
        return Err(if matches!(kind.as_str(), "sms" | "phone_change") {
            if token.is_empty() {
                // `verifyTokenHash` knows only the email types.
                ApiError::validation("Invalid email verification type")
            } else {
                // An email with a phone type: no user has the empty number.
                otp_expired(not_found_msg)
            }
        } else {
            ApiError::validation("Unsupported verification type")
        });
    }
    let body = st.store.tx(|c| {
        let refs: Vec<&str> = hashes.iter().map(String::as_str).collect();
        let (t, ott_type, resolved) =
            find_token(&st, c, &kind, &refs)?.ok_or_else(|| otp_expired(not_found_msg))?;
        match consume(&st, c, &t, ott_type, resolved)? {
            Verified::EmailChangeFirst => Ok(json!({ "msg": EMAIL_CHANGE_FIRST, "code": "200" })),
            Verified::User { mut user, .. } => {
                let m = session::issue(
                    &st,
                    c,
                    &mut user,
                    "otp",
                    caller.user_agent.as_deref(),
                    Extras::default(),
                )?;
                Ok::<_, ApiError>(Value::Object(m))
            }
        }
    })?;
    Ok(Json(body))
}

/// `POST /verify {phone, token, type: sms | phone_change}`: the number confirmed (or
/// changed) and a session with the `otp` method, from the reloaded row as GoTrue does.
fn verify_phone(
    st: &AppState,
    caller: &Caller,
    kind: &str,
    phone: &str,
    token: &str,
) -> ApiResult<Value> {
    st.store.tx(|c| {
        let verified = super::phone::verify(st, c, kind, phone, token)?;
        let mut user = users::get(c, &verified.id)?.ok_or_else(ApiError::internal)?;
        let m = session::issue(
            st,
            c,
            &mut user,
            "otp",
            caller.user_agent.as_deref(),
            Extras::default(),
        )?;
        Ok(Value::Object(m))
    })
}

/// `redirect_to` with `params` added to the query (PKCE) or as the fragment (implicit).
pub(super) fn redirect_with(
    base: &str,
    query: &[(&str, &str)],
    fragment: &[(&str, &str)],
) -> String {
    let encode = |pairs: &[(&str, &str)]| {
        let mut sorted = pairs.to_vec();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(sorted)
            .finish()
    };
    match url::Url::parse(base) {
        Ok(mut u) => {
            if !query.is_empty() {
                u.query_pairs_mut().extend_pairs(query.iter().copied());
            }
            if !fragment.is_empty() {
                u.set_fragment(Some(&encode(fragment)));
            }
            u.to_string()
        }
        Err(_) => {
            let mut out = base.to_string();
            if !query.is_empty() {
                out.push(if out.contains('?') { '&' } else { '?' });
                out.push_str(&encode(query));
            }
            if !fragment.is_empty() {
                out.push('#');
                out.push_str(&encode(fragment));
            }
            out
        }
    }
}

fn see_other(location: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_string())],
    )
        .into_response()
}

/// An error redirect: keys in the fragment (and the query too for PKCE), plus `sb=`.
fn error_redirect(base: &str, pkce: bool, err: &ApiError) -> Response {
    let oauth_error = match err.status {
        StatusCode::UNAUTHORIZED => "unauthorized_client",
        StatusCode::FORBIDDEN => "access_denied",
        StatusCode::INTERNAL_SERVER_ERROR => "server_error",
        StatusCode::SERVICE_UNAVAILABLE => "temporarily_unavailable",
        _ => "invalid_request",
    };
    let params = [
        ("error", oauth_error),
        ("error_code", err.code.as_ref()),
        ("error_description", err.msg.as_str()),
    ];
    let mut fragment = params.to_vec();
    fragment.push(("sb", ""));
    let query: &[(&str, &str)] = if pkce { &params } else { &[] };
    see_other(&redirect_with(base, query, &fragment))
}

fn flow_method(kind: &str) -> &'static str {
    match kind {
        "signup" => "email/signup",
        "invite" => "invite",
        "recovery" => "recovery",
        "email_change" => "email_change",
        _ => "magiclink",
    }
}

pub(crate) async fn verify_get(st: St, caller: Caller, query: QueryMap) -> ApiResult<Response> {
    let kind = query.get("type").unwrap_or("").to_string();
    let token = query.get("token").unwrap_or("").to_string();
    if kind.is_empty() {
        return Err(ApiError::validation("Verify requires a verification type"));
    }
    if token.is_empty() {
        return Err(ApiError::validation(
            "Verify requires either a token or a token hash",
        ));
    }
    let redirect_to = crate::redirect::or_site_url(&st.config, query.get("redirect_to"));
    let pkce = token.starts_with("pkce_");
    if !matches!(
        kind.as_str(),
        "signup" | "invite" | "recovery" | "magiclink" | "email_change" | "email"
    ) {
        return Err(ApiError::validation("Unsupported verification type"));
    }
    let outcome = st.store.tx(|c| {
        let (t, ott_type, resolved) = find_token(&st, c, &kind, &[token.as_str()])?
            .ok_or_else(|| otp_expired("Email link is invalid or has expired"))?;
        let verified = consume(&st, c, &t, ott_type, resolved)?;
        let Verified::User {
            mut user,
            kind: resolved,
        } = verified
        else {
            let msg = [("message", EMAIL_CHANGE_FIRST)];
            let mut fragment = msg.to_vec();
            fragment.push(("sb", ""));
            return Ok(redirect_with(
                &redirect_to,
                if pkce { &msg } else { &[] },
                &fragment,
            ));
        };
        if pkce {
            let method = flow_method(resolved);
            let mut flow = tokens::latest_flow_state(c, &user.id, method)?.ok_or_else(|| {
                ApiError::not_found(
                    "flow_state_not_found",
                    "invalid flow state, no valid flow state found",
                )
            })?;
            let now = st.now();
            flow.auth_code_issued_at = Some(now);
            tokens::save_flow_state(c, &flow, now)?;
            return Ok(redirect_with(
                &redirect_to,
                &[("code", flow.auth_code.as_str())],
                &[],
            ));
        }
        let m: Map<String, Value> = session::issue(
            &st,
            c,
            &mut user,
            "otp",
            caller.user_agent.as_deref(),
            Extras::default(),
        )?;
        let text = |k: &str| match m.get(k) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        let (access, expires_at, expires_in, refresh) = (
            text("access_token"),
            text("expires_at"),
            text("expires_in"),
            text("refresh_token"),
        );
        let fragment = [
            ("access_token", access.as_str()),
            ("expires_at", expires_at.as_str()),
            ("expires_in", expires_in.as_str()),
            ("refresh_token", refresh.as_str()),
            ("sb", ""),
            ("token_type", "bearer"),
            ("type", resolved),
        ];
        Ok::<_, ApiError>(redirect_with(&redirect_to, &[], &fragment))
    });
    Ok(match outcome {
        Ok(location) => see_other(&location),
        Err(e) if e.status.is_server_error() => return Err(e),
        Err(e) => error_redirect(&redirect_to, pkce, &e),
    })
}
