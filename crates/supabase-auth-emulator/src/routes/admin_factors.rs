//! `/admin/users/{user_id}/factors[/{factor_id}]`: list, rename and delete a user's
//! MFA factors with the service role (GoTrue's `admin.go`).

use axum::Json;
use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use serde::Deserialize;
use serde_json::Value;

use super::St;
use super::admin::load_target;
use super::auth::require_admin;
use super::error::{ApiError, ApiResult};
use super::extract::{Caller, LimitedBody, parse_json};
use super::mfa::{load_factor, remove_factor};
use crate::store::factors;
use crate::store::user_json::factor_json;

/// The `user_id` and `factor_id` path segments, if the path decoded.
fn ids(path: &Result<Path<(String, String)>, PathRejection>) -> (&str, Option<&str>) {
    match path {
        Ok(Path((user, factor))) => (user.as_str(), Some(factor.as_str())),
        Err(_) => ("", None),
    }
}

/// `GET /admin/users/{user_id}/factors`: every factor, `[]` when none.
pub(crate) async fn list(
    st: St,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Value>> {
    require_admin(&st, &caller)?;
    let user_id = path.as_ref().map(|Path(id)| id.as_str()).unwrap_or("");
    let user = load_target(&st, user_id)?;
    let list = st.store.tx(|c| factors::for_user(c, &user.id))?;
    Ok(Json(Value::Array(list.iter().map(factor_json).collect())))
}

/// `DELETE /admin/users/{user_id}/factors/{factor_id}`: answers the deleted factor.
pub(crate) async fn delete(
    st: St,
    caller: Caller,
    path: Result<Path<(String, String)>, PathRejection>,
) -> ApiResult<Json<Value>> {
    require_admin(&st, &caller)?;
    let (user_id, factor_id) = ids(&path);
    let user = load_target(&st, user_id)?;
    let body = st.store.tx(|c| {
        let factor = load_factor(c, &user.id, factor_id)?;
        remove_factor(c, &factor)?;
        Ok::<_, ApiError>(factor_json(&factor))
    })?;
    Ok(Json(body))
}

#[derive(Debug, Default, Deserialize)]
struct UpdateFactorParams {
    #[serde(default)]
    friendly_name: Option<String>,
    /// Applies to phone factors only, which the emulator does not enrol; still decoded,
    /// so a non-string is `bad_json` as in GoTrue.
    #[serde(default, rename = "phone")]
    _phone: Option<String>,
}

/// `PUT /admin/users/{user_id}/factors/{factor_id}`: renames the factor when
/// `friendly_name` is non-empty; answers the factor.
pub(crate) async fn update(
    st: St,
    caller: Caller,
    path: Result<Path<(String, String)>, PathRejection>,
    LimitedBody(body): LimitedBody,
) -> ApiResult<Json<Value>> {
    require_admin(&st, &caller)?;
    let (user_id, factor_id) = ids(&path);
    let user = load_target(&st, user_id)?;
    let body = st.store.tx(|c| {
        let mut factor = load_factor(c, &user.id, factor_id)?;
        let p: UpdateFactorParams = parse_json(&body)?;
        if let Some(name) = p.friendly_name.filter(|n| !n.is_empty()) {
            factors::set_friendly_name(c, &mut factor, &name, st.now())?;
        }
        Ok::<_, ApiError>(factor_json(&factor))
    })?;
    Ok(Json(body))
}
