//! `POST /admin/generate_link`: a verification link and OTP, without sending email.

use axum::Json;
use serde::Deserialize;
use serde_json::{Value, json};

use super::St;
use super::auth::require_admin;
use super::error::{ApiError, ApiResult};
use super::extract::{Caller, JsonBody, QueryMap};
use super::signup::{check_email, data_map, insert_with_identity, new_email_user};
use crate::mailer::{self, MailKind};
use crate::store::tokens::{self, OttType};
use crate::store::user_json::user_json;
use crate::store::users;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct GenerateLinkParams {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    new_email: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    redirect_to: Option<String>,
}

pub(crate) async fn generate_link(
    st: St,
    caller: Caller,
    query: QueryMap,
    JsonBody(p): JsonBody<GenerateLinkParams>,
) -> ApiResult<Json<Value>> {
    require_admin(&st, &caller)?;
    let mut kind = p.kind.clone().unwrap_or_default();
    if !matches!(
        kind.as_str(),
        "signup"
            | "invite"
            | "magiclink"
            | "recovery"
            | "email_change_current"
            | "email_change_new"
    ) {
        return Err(ApiError::validation(format!(
            "Invalid email action link type requested: {kind}"
        )));
    }
    let email = p.email.clone().unwrap_or_default().to_lowercase();
    check_email(&email)?;
    let candidate = p.redirect_to.clone().filter(|s| !s.is_empty());
    let redirect_to = crate::redirect::or_site_url(
        &st.config,
        candidate.as_deref().or(query.get("redirect_to")),
    );
    let existing = st.store.tx(|c| users::find_by_email(c, &email))?;
    let mut password = p.password.clone().filter(|s| !s.is_empty());
    if kind == "magiclink" && existing.is_none() {
        kind = "signup".into();
        password = Some(crate::util::random_alnum(64));
    }
    let hashed = match (&existing, kind.as_str(), password) {
        (None, "signup", None) => {
            return Err(ApiError::validation("Signup requires a valid password"));
        }
        (None, "signup", Some(pw)) => {
            crate::password::check_length(&pw)?;
            Some(crate::password::hash(pw, st.config.bcrypt_cost).await?)
        }
        _ => None,
    };
    let new_email = p.new_email.clone().unwrap_or_default().to_lowercase();
    let body = st.store.tx(|c| {
        let now = st.now();
        let mut user = match (existing, kind.as_str()) {
            (Some(u), "signup" | "invite") if u.email_confirmed() => {
                return Err(ApiError::unprocessable(
                    "email_exists",
                    "A user with this email address has already been registered",
                ));
            }
            (Some(u), _) => u,
            (None, "signup" | "invite") => {
                let (mut user, identity) =
                    new_email_user(&email, hashed, data_map(p.data.clone()), now);
                if kind == "invite" {
                    user.invited_at = Some(now);
                }
                insert_with_identity(c, &user, &identity)?;
                user
            }
            (None, _) => {
                return Err(ApiError::not_found(
                    "user_not_found",
                    "User with this email not found",
                ));
            }
        };
        let (verification_type, ott, address) = match kind.as_str() {
            "signup" => (MailKind::Signup, OttType::Confirmation, email.clone()),
            "invite" => (MailKind::Invite, OttType::Confirmation, email.clone()),
            "magiclink" => (MailKind::Magiclink, OttType::Recovery, email.clone()),
            "recovery" => (MailKind::Recovery, OttType::Recovery, email.clone()),
            _ => {
                check_email(&new_email)?;
                if users::find_by_email(c, &new_email)?.is_some() {
                    return Err(ApiError::unprocessable(
                        "email_exists",
                        "A user with this email address has already been registered",
                    ));
                }
                user.new_email = new_email.clone();
                user.email_change_sent_at = Some(now);
                user.email_change_confirm_status = 0;
                if kind == "email_change_current" {
                    (
                        MailKind::EmailChange,
                        OttType::EmailChangeCurrent,
                        email.clone(),
                    )
                } else {
                    (
                        MailKind::EmailChange,
                        OttType::EmailChangeNew,
                        new_email.clone(),
                    )
                }
            }
        };
        let (otp, hash) = mailer::new_token(&st, &address, false);
        tokens::put_ott(c, &user.id, ott, &hash, &address, now)?;
        match ott {
            OttType::Confirmation => user.confirmation_sent_at = Some(now),
            OttType::Recovery => user.recovery_sent_at = Some(now),
            _ => {}
        }
        users::save(c, &mut user, now)?;
        let mut out = match user_json(c, &user)? {
            Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        out.insert(
            "action_link".into(),
            json!(mailer::action_link(
                &st,
                verification_type,
                &hash,
                &redirect_to
            )),
        );
        out.insert("email_otp".into(), json!(otp));
        out.insert("hashed_token".into(), json!(hash));
        out.insert(
            "verification_type".into(),
            json!(verification_type.as_str()),
        );
        out.insert("redirect_to".into(), json!(redirect_to));
        Ok::<_, ApiError>(Value::Object(out))
    })?;
    Ok(Json(body))
}
