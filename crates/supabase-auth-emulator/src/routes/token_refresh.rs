//! `POST /token?grant_type=refresh_token`: legacy refresh-token rotation with
//! GoTrue's reuse rules.

use serde::Deserialize;
use serde_json::Value;

use super::error::{ApiError, ApiResult};
use crate::session::{self, Extras};
use crate::state::AppState;
use crate::store::{sessions, users};

#[derive(Debug, Default, Deserialize)]
pub(super) struct RefreshParams {
    #[serde(default)]
    refresh_token: Option<String>,
}

/// What the transaction decided; the reuse case must commit before answering 400.
enum Outcome {
    Session(Value),
    AlreadyUsed,
}

fn not_found() -> ApiError {
    ApiError::bad_request(
        "refresh_token_not_found",
        "Invalid Refresh Token: Refresh Token Not Found",
    )
}

pub(super) fn refresh_grant(st: &AppState, p: RefreshParams) -> ApiResult<Value> {
    let token = p.refresh_token.unwrap_or_default();
    if token.len() < 12 {
        return Err(ApiError::validation("Refresh token is not valid"));
    }
    if token.len() == 12
        && !token
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        return Err(ApiError::validation("Refresh token is not valid"));
    }
    if token.len() > 12 {
        // Longer tokens would be v2 tokens, which this emulator never issues.
        return Err(ApiError::validation("Refresh token is not valid"));
    }
    let interval =
        i64::try_from(st.config.refresh_token_reuse_interval.as_micros()).unwrap_or(i64::MAX);
    let outcome = st.store.tx(|c| {
        let now = st.now();
        let row = sessions::find_refresh_token(c, &token)?.ok_or_else(not_found)?;
        let mut user = users::get(c, &row.user_id)?.ok_or_else(not_found)?;
        if user.is_banned(now) {
            return Err(ApiError::bad_request(
                "user_banned",
                "Invalid Refresh Token: User Banned",
            ));
        }
        let Some(session) = sessions::get(c, &row.session_id)? else {
            return Err(ApiError::bad_request(
                "session_not_found",
                "Invalid Refresh Token: No Valid Session Found",
            ));
        };
        if session.not_after.is_some_and(|t| now > t) {
            return Err(ApiError::bad_request(
                "session_expired",
                "Invalid Refresh Token: Session Expired",
            ));
        }
        let issued = if row.revoked {
            let active = sessions::active_refresh_token(c, &session.id)?;
            match active {
                // The client lost the response that carried the active token: hand it out again.
                Some(active) if active.parent.as_deref() == Some(row.token.as_str()) => {
                    active.token
                }
                _ if now > row.updated_at.saturating_add(interval) => {
                    sessions::revoke_family(c, &session.id, now)?;
                    return Ok(Outcome::AlreadyUsed);
                }
                _ => {
                    sessions::revoke(c, row.id, now)?;
                    sessions::insert_refresh_token(c, &user.id, &session.id, Some(&row.token), now)?
                }
            }
        } else {
            sessions::revoke(c, row.id, now)?;
            sessions::insert_refresh_token(c, &user.id, &session.id, Some(&row.token), now)?
        };
        sessions::touch_refreshed(c, &session.id, now)?;
        // Reload so `confirmed_at` reflects the stored row, as GoTrue's eager load does.
        user = users::get(c, &user.id)?.ok_or_else(not_found)?;
        let m = session::token_response(st, c, &user, &session, &issued, Extras::default())?;
        Ok(Outcome::Session(Value::Object(m)))
    })?;
    match outcome {
        Outcome::Session(v) => Ok(v),
        Outcome::AlreadyUsed => Err(ApiError::bad_request(
            "refresh_token_already_used",
            "Invalid Refresh Token: Already Used",
        )),
    }
}
