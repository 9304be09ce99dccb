//! Manual identity linking (GoTrue's `identity.go`): `GET /user/identities/authorize`
//! starts an OAuth flow whose callback links the identity to the signed-in user, and
//! `DELETE /user/identities/{identity_id}` unlinks one.

use axum::Json;
use axum::extract::Path;
use axum::response::Response;
use serde_json::{Value, json};

use super::St;
use super::auth::require_user;
use super::error::{ApiError, ApiResult};
use super::external::update_email_from_identities;
use super::extract::{Caller, QueryMap};
use crate::state::AppState;
use crate::store::users;

/// `requireManualLinkingEnabled`, which runs after `requireAuthentication`.
fn require_manual_linking(st: &AppState) -> ApiResult<()> {
    if st.config.manual_linking {
        Ok(())
    } else {
        Err(ApiError::not_found(
            "manual_linking_disabled",
            "Manual linking is disabled",
        ))
    }
}

/// `LinkIdentity`: the flow state remembers the user as its linking target.
pub(crate) async fn authorize(st: St, caller: Caller, query: QueryMap) -> ApiResult<Response> {
    let user = st.store.tx(|c| require_user(&st, c, &caller))?.user;
    require_manual_linking(&st)?;
    super::oauth::start_flow(&st, &query, Some(&user.id))
}

/// `DeleteIdentity`.
pub(crate) async fn unlink(
    st: St,
    caller: Caller,
    Path(identity_id): Path<String>,
) -> ApiResult<Json<Value>> {
    st.store.tx(|c| {
        let mut user = require_user(&st, c, &caller)?.user;
        require_manual_linking(&st)?;
        let Some(identity_id) = crate::util::canonical_uuid(&identity_id) else {
            return Err(ApiError::not_found(
                "validation_failed",
                "identity_id must be an UUID",
            ));
        };
        let identities = users::identities(c, &user.id)?;
        if identities.len() <= 1 {
            return Err(ApiError::unprocessable(
                "single_identity_not_deletable",
                "User must have at least 1 identity after unlinking",
            ));
        }
        let Some(identity) = identities.iter().find(|i| i.id == identity_id) else {
            return Err(ApiError::unprocessable(
                "identity_not_found",
                "Identity doesn't exist",
            ));
        };
        users::delete_identity(c, &identity.id)?;
        if identity.provider == "phone" {
            user.phone_confirmed_at = None;
            user.phone = String::new();
        } else if !update_email_from_identities(c, &mut user, st.config.autoconfirm)? {
            return Err(ApiError::unprocessable(
                "email_conflict_identity_not_deletable",
                "Unable to unlink identity due to email conflict",
            ));
        }
        users::refresh_providers(c, &mut user)?;
        users::save(c, &mut user, st.now())?;
        Ok(Json(json!({})))
    })
}
