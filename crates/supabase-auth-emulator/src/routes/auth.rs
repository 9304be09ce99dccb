//! Authenticating callers: `requireAuthentication` and `requireAdminCredentials`.

use crate::store::Db;
use serde_json::{Map, Value};

use super::error::ApiError;
use super::extract::Caller;
use crate::state::AppState;
use crate::store::sessions::{self, SessionRecord};
use crate::store::users::{self, UserRecord};

/// A verified user request.
#[derive(Debug)]
pub(crate) struct Authed {
    pub(crate) user: UserRecord,
    pub(crate) session: Option<SessionRecord>,
    /// The verified access token's claims.
    pub(crate) claims: Map<String, Value>,
}

impl Authed {
    /// `requireNotAnonymous`: refuses a token whose `is_anonymous` claim is true.
    pub(crate) fn require_not_anonymous(&self) -> Result<(), ApiError> {
        if self.claims.get("is_anonymous").and_then(Value::as_bool) == Some(true) {
            return Err(ApiError::forbidden(
                "no_authorization",
                "Anonymous user not allowed to perform these actions",
            ));
        }
        Ok(())
    }
}

fn bad_jwt(detail: &str) -> ApiError {
    ApiError::forbidden(
        "bad_jwt",
        format!("invalid JWT: unable to parse or verify signature, {detail}"),
    )
}

/// Verifies the bearer JWT's signature and expiry.
pub(crate) fn verified_claims(
    st: &AppState,
    caller: &Caller,
) -> Result<Map<String, Value>, ApiError> {
    let token = caller.bearer()?;
    st.keys().verify(token, st.now()).map_err(|e| bad_jwt(&e))
}

/// GoTrue's `requireAuthentication` plus the user/session loading that follows it.
pub(crate) fn require_user(st: &AppState, c: &Db<'_>, caller: &Caller) -> Result<Authed, ApiError> {
    let claims = verified_claims(st, caller)?;
    let sub = claims.get("sub").and_then(Value::as_str).unwrap_or("");
    if sub.is_empty() {
        return Err(ApiError::forbidden(
            "bad_jwt",
            "invalid claim: missing sub claim",
        ));
    }
    let Some(sub) = crate::util::canonical_uuid(sub) else {
        return Err(ApiError::bad_request(
            "bad_jwt",
            "invalid claim: sub claim must be a UUID",
        ));
    };
    let Some(user) = users::get(c, &sub)? else {
        return Err(ApiError::forbidden(
            "user_not_found",
            "User from sub claim in JWT does not exist",
        ));
    };
    let session = match claims.get("session_id") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let Some(id) = crate::util::canonical_uuid(v.as_str().unwrap_or("")) else {
                return Err(ApiError::forbidden(
                    "bad_jwt",
                    "invalid claim: session_id claim must be a UUID",
                ));
            };
            match sessions::get(c, &id)? {
                Some(s) => Some(s),
                None => {
                    return Err(ApiError::forbidden(
                        "session_not_found",
                        "Session from session_id claim in JWT does not exist",
                    ));
                }
            }
        }
    };
    if user.is_banned(st.now()) {
        return Err(ApiError::forbidden("user_banned", "User is banned"));
    }
    Ok(Authed {
        user,
        session,
        claims,
    })
}

/// GoTrue's `requireAdminCredentials`: a verifiable JWT whose role is an admin role.
pub(crate) fn require_admin(
    st: &AppState,
    caller: &Caller,
) -> Result<Map<String, Value>, ApiError> {
    let claims = verified_claims(st, caller)?;
    let role = claims.get("role").and_then(Value::as_str).unwrap_or("");
    if !matches!(role, "service_role" | "supabase_admin") {
        return Err(ApiError::forbidden("not_admin", "User not allowed"));
    }
    Ok(claims)
}
