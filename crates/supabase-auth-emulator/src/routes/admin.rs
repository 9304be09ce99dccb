//! Admin user management (`/admin/users*`) and `/invite`; all require the service role.

use axum::Json;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::St;
use super::auth::require_admin;
use super::error::{ApiError, ApiResult};
use super::extract::{Caller, JsonBody, LimitedBody, QueryMap, parse_json};
use super::signup::{check_email, data_map, redirect_target};
use super::user::merge_metadata;
use crate::mailer::{self, MailKind};
use crate::state::AppState;
use crate::store::tokens::{self, OttType};
use crate::store::user_json::{user_json, user_map};
use crate::store::users::{self, IdentityRecord, UserRecord};
use crate::store::{DbResult, factors, sessions};

/// Body of `POST /admin/users` and `PUT /admin/users/{id}`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AdminUserParams {
    #[serde(default)]
    pub(crate) id: Option<String>,
    #[serde(default)]
    pub(crate) aud: Option<String>,
    #[serde(default)]
    pub(crate) role: Option<String>,
    #[serde(default)]
    pub(crate) email: Option<String>,
    #[serde(default)]
    pub(crate) phone: Option<String>,
    #[serde(default)]
    pub(crate) password: Option<String>,
    #[serde(default)]
    pub(crate) password_hash: Option<String>,
    #[serde(default)]
    pub(crate) email_confirm: Option<bool>,
    #[serde(default)]
    pub(crate) phone_confirm: Option<bool>,
    #[serde(default)]
    pub(crate) user_metadata: Option<Value>,
    #[serde(default)]
    pub(crate) app_metadata: Option<Value>,
    #[serde(default)]
    pub(crate) ban_duration: Option<String>,
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

fn ban_until(st: &AppState, duration: &str) -> ApiResult<Option<i64>> {
    if duration == "none" {
        return Ok(None);
    }
    let secs = crate::util::parse_go_duration(duration).ok_or_else(|| {
        ApiError::validation(format!("invalid format for ban duration: {duration}"))
    })?;
    Ok(Some(
        st.now().saturating_add(secs.saturating_mul(1_000_000)),
    ))
}

fn identity_data(user_id: &str, key: &str, value: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("sub".into(), json!(user_id));
    m.insert(key.into(), json!(value));
    m.insert("email_verified".into(), json!(false));
    m.insert("phone_verified".into(), json!(false));
    m
}

/// `adminUserCreate`; also behind [`crate::Emulator::create_user`].
pub(crate) async fn create_user(st: &AppState, p: AdminUserParams) -> ApiResult<Value> {
    let email = nonempty(&p.email).map(str::to_lowercase);
    let phone =
        match nonempty(&p.phone) {
            Some(raw) => Some(crate::util::normalize_phone(raw).ok_or_else(|| {
                ApiError::validation("Invalid phone number format (E.164 required)")
            })?),
            None => None,
        };
    if email.is_none() && phone.is_none() {
        return Err(ApiError::validation(
            "Cannot create a user without either an email or phone",
        ));
    }
    if let Some(e) = &email {
        check_email(e)?;
    }
    let id = match nonempty(&p.id) {
        Some(raw) => {
            let parsed = uuid::Uuid::parse_str(raw)
                .map_err(|_| ApiError::validation("ID must conform to the uuid v4 format"))?;
            if parsed.is_nil() {
                return Err(ApiError::validation("ID cannot be a nil UUID"));
            }
            Some(parsed.to_string())
        }
        None => None,
    };
    let hash = match (nonempty(&p.password), nonempty(&p.password_hash)) {
        (Some(_), Some(_)) => {
            return Err(ApiError::validation(
                "Only a password or a password hash should be provided",
            ));
        }
        (None, Some(h)) if h.starts_with("$2") => h.to_string(),
        (None, Some(_)) => return Err(ApiError::validation("Invalid password hash format")),
        (pw, None) => {
            let pw = pw.map_or_else(|| crate::util::random_alnum(64), str::to_string);
            crate::password::check_length(&pw)?;
            crate::password::hash(pw, st.config.bcrypt_cost).await?
        }
    };
    let banned_until = match nonempty(&p.ban_duration) {
        Some(d) => ban_until(st, d)?,
        None => None,
    };
    st.store.tx(|c| {
        let now = st.now();
        if let Some(e) = &email
            && users::find_by_email(c, e)?.is_some()
        {
            return Err(ApiError::unprocessable(
                "email_exists",
                "A user with this email address has already been registered",
            ));
        }
        if let Some(ph) = &phone
            && users::find_by_phone(c, ph)?.is_some()
        {
            return Err(ApiError::unprocessable(
                "phone_exists",
                "Phone number already registered by another user",
            ));
        }
        let mut user = UserRecord::new(now);
        if let Some(id) = &id {
            if users::get(c, id)?.is_some() {
                return Err(ApiError::unprocessable(
                    "user_already_exists",
                    "User already registered",
                ));
            }
            user.id = id.clone();
        }
        user.encrypted_password = Some(hash);
        user.aud = nonempty(&p.aud).unwrap_or("authenticated").to_string();
        user.role = nonempty(&p.role).unwrap_or("authenticated").to_string();
        user.banned_until = banned_until;
        let mut providers = Vec::new();
        let mut identities = Vec::new();
        if let Some(e) = &email {
            user.email = e.clone();
            providers.push("email");
            identities.push(IdentityRecord::new(
                &user.id,
                "email",
                &user.id,
                identity_data(&user.id, "email", e),
                now,
            ));
        }
        if let Some(ph) = &phone {
            user.phone = ph.clone();
            providers.push("phone");
            identities.push(IdentityRecord::new(
                &user.id,
                "phone",
                &user.id,
                identity_data(&user.id, "phone", ph),
                now,
            ));
        }
        user.app_metadata
            .insert("provider".into(), json!(providers.first()));
        user.app_metadata
            .insert("providers".into(), json!(providers));
        if let Some(Value::Object(extra)) = &p.app_metadata {
            merge_metadata(&mut user.app_metadata, extra);
        }
        user.user_metadata = data_map(p.user_metadata.clone());
        if p.email_confirm == Some(true) && email.is_some() {
            user.confirm_email(now);
        }
        if p.phone_confirm == Some(true) && phone.is_some() {
            user.phone_confirmed_at = Some(now);
        }
        users::insert(c, &user).map_err(ApiError::database("Database error creating new user"))?;
        for i in &identities {
            users::upsert_identity(c, i)?;
        }
        Ok(user_json(c, &user)?)
    })
}

pub(crate) async fn create_user_route(
    st: St,
    caller: Caller,
    JsonBody(p): JsonBody<AdminUserParams>,
) -> ApiResult<Json<Value>> {
    require_admin(&st, &caller)?;
    create_user(&st, p).await.map(Json)
}

fn page_param(q: &QueryMap, key: &str, default: i64) -> ApiResult<i64> {
    match q.get(key) {
        None => Ok(default),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| ApiError::validation("Bad Pagination Parameters")),
    }
}

pub(crate) async fn list_users(st: St, caller: Caller, query: QueryMap) -> ApiResult<Response> {
    require_admin(&st, &caller)?;
    let page = page_param(&query, "page", 1)?;
    let per_page = page_param(&query, "per_page", 50)?.min(1000);
    let filter = query.get("filter").unwrap_or("").to_string();
    let (users, total) = st.store.tx(|c| {
        let (list, total) = users::list(c, &filter, per_page, (page - 1).saturating_mul(per_page))?;
        // GoTrue lists users without eager loading: no `factors` here.
        let json = list
            .iter()
            .map(|u| {
                Ok(Value::Object(user_map(
                    u,
                    &users::identities(c, &u.id)?,
                    &[],
                )))
            })
            .collect::<DbResult<Vec<_>>>()?;
        Ok::<_, ApiError>((json, total))
    })?;
    let last = ((total + per_page - 1) / per_page).max(1);
    let base = format!("{}/admin/users", st.auth_url());
    let mut links = Vec::new();
    if page < last {
        links.push(format!(
            "<{base}?page={}&per_page={per_page}>; rel=\"next\"",
            page + 1
        ));
    }
    links.push(format!(
        "<{base}?page={last}&per_page={per_page}>; rel=\"last\""
    ));
    let mut headers = HeaderMap::new();
    headers.insert("x-total-count", HeaderValue::from(total));
    if let Ok(v) = HeaderValue::from_str(&links.join(", ")) {
        headers.insert("link", v);
    }
    Ok((
        headers,
        Json(json!({ "users": users, "aud": "authenticated" })),
    )
        .into_response())
}

pub(super) fn load_target(st: &AppState, id: &str) -> ApiResult<UserRecord> {
    let Some(id) = crate::util::canonical_uuid(id) else {
        return Err(ApiError::not_found(
            "validation_failed",
            "user_id must be an UUID",
        ));
    };
    st.store
        .tx(|c| users::get(c, &id))?
        .ok_or_else(|| ApiError::not_found("user_not_found", "User not found"))
}

pub(crate) async fn get_user(
    st: St,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    require_admin(&st, &caller)?;
    let user = load_target(&st, &id)?;
    Ok(Json(st.store.tx(|c| user_json(c, &user))?))
}

pub(crate) async fn update_user(
    st: St,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(p): JsonBody<AdminUserParams>,
) -> ApiResult<Json<Value>> {
    require_admin(&st, &caller)?;
    load_target(&st, &id)?;
    let new_hash = match nonempty(&p.password) {
        Some(pw) => {
            crate::password::check_length(pw)?;
            crate::password::check_strength(pw)?;
            Some(crate::password::hash(pw.to_string(), st.config.bcrypt_cost).await?)
        }
        None => None,
    };
    let email = nonempty(&p.email).map(str::to_lowercase);
    if let Some(e) = &email {
        check_email(e)?;
    }
    let banned_until = nonempty(&p.ban_duration)
        .map(|d| ban_until(&st, d))
        .transpose()?;
    let body = st.store.tx(|c| {
        let now = st.now();
        let mut user = users::get(c, &id)?
            .ok_or_else(|| ApiError::not_found("user_not_found", "User not found"))?;
        if let Some(role) = nonempty(&p.role) {
            user.role = role.to_string();
        }
        if let Some(e) = email.filter(|e| *e != user.email) {
            if users::find_by_email(c, &e)?.is_some() {
                return Err(ApiError::unprocessable(
                    "email_exists",
                    "A user with this email address has already been registered",
                ));
            }
            user.email = e.clone();
            for mut i in users::identities(c, &user.id)?
                .into_iter()
                .filter(|i| i.provider == "email")
            {
                i.identity_data.insert("email".into(), json!(e));
                i.updated_at = now;
                users::upsert_identity(c, &i)?;
            }
        }
        if let Some(hash) = new_hash {
            user.encrypted_password = Some(hash);
            sessions::delete_for_user(c, &user.id, None)?;
        }
        if p.email_confirm == Some(true) && !user.email_confirmed() {
            user.confirm_email(now);
        }
        if p.phone_confirm == Some(true) && user.phone_confirmed_at.is_none() {
            user.phone_confirmed_at = Some(now);
        }
        if let Some(Value::Object(m)) = &p.user_metadata {
            merge_metadata(&mut user.user_metadata, m);
        }
        if let Some(Value::Object(m)) = &p.app_metadata {
            merge_metadata(&mut user.app_metadata, m);
        }
        if let Some(until) = banned_until {
            user.banned_until = until;
        }
        users::save(c, &mut user, now)?;
        Ok(user_json(c, &user)?)
    })?;
    Ok(Json(body))
}

#[derive(Debug, Default, Deserialize)]
struct DeleteParams {
    #[serde(default)]
    should_soft_delete: Option<bool>,
}

pub(crate) async fn delete_user(
    st: St,
    caller: Caller,
    Path(id): Path<String>,
    LimitedBody(body): LimitedBody,
) -> ApiResult<Json<Value>> {
    require_admin(&st, &caller)?;
    let params: DeleteParams = if body.iter().all(u8::is_ascii_whitespace) {
        DeleteParams::default()
    } else {
        parse_json(&body)?
    };
    load_target(&st, &id)?;
    st.store.tx(|c| {
        if params.should_soft_delete == Some(true) {
            let now = st.now();
            if let Some(mut user) = users::get(c, &id)? {
                user.deleted_at = Some(now);
                user.email.clear();
                user.phone.clear();
                user.encrypted_password = None;
                sessions::delete_for_user(c, &id, None)?;
                users::delete_identities(c, &id)?;
                factors::delete_for_user(c, &id)?;
                tokens::clear_otts(c, &id)?;
                users::save(c, &mut user, now)?;
            }
        } else {
            users::delete(c, &id)?;
        }
        Ok::<_, ApiError>(())
    })?;
    Ok(Json(json!({})))
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct InviteParams {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    data: Option<Value>,
}

pub(crate) async fn invite(
    st: St,
    caller: Caller,
    query: QueryMap,
    JsonBody(p): JsonBody<InviteParams>,
) -> ApiResult<Json<Value>> {
    require_admin(&st, &caller)?;
    let email = p.email.unwrap_or_default().to_lowercase();
    check_email(&email)?;
    let redirect_to = redirect_target(&st, &caller, &query);
    let body = st.store.tx(|c| {
        let now = st.now();
        let mut user = match users::find_by_email(c, &email)? {
            Some(u) if u.email_confirmed() => {
                return Err(ApiError::unprocessable(
                    "email_exists",
                    "A user with this email address has already been registered",
                ));
            }
            Some(u) => u,
            None => {
                let (mut user, identity) =
                    super::signup::new_email_user(&email, None, data_map(p.data), now);
                user.invited_at = Some(now);
                super::signup::insert_with_identity(c, &user, &identity)?;
                user
            }
        };
        let (otp, hash) = mailer::new_token(&st, &email, false);
        tokens::put_ott(c, &user.id, OttType::Confirmation, &hash, &email, now)?;
        user.invited_at = Some(now);
        user.confirmation_sent_at = Some(now);
        users::save(c, &mut user, now)?;
        mailer::send(&st, c, MailKind::Invite, &email, &otp, &hash, &redirect_to)?;
        Ok(user_json(c, &user)?)
    })?;
    Ok(Json(body))
}
