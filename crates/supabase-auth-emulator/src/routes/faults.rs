//! The fault mode over HTTP (secret key only): `GET /emulator/v1/faults` shows the
//! settings, `POST` changes the fields it names, `DELETE` switches everything off.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;

use super::auth::require_admin;
use super::error::{ApiError, ApiResult};
use super::extract::{Caller, JsonBody};
use crate::apikeys::effective_authorization;
use crate::fault::{FaultChange, FaultSettings, Faults};
use crate::state::AppState;

fn admin(st: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let caller = Caller {
        authorization: effective_authorization(get("authorization"), get("apikey")),
        ..Default::default()
    };
    require_admin(st, &caller).map(|_| ())
}

pub(crate) async fn show(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
) -> ApiResult<Json<FaultSettings>> {
    admin(&st, &headers)?;
    Ok(Json(Faults::new(st).settings()))
}

pub(crate) async fn change(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    JsonBody(change): JsonBody<FaultChange>,
) -> ApiResult<Json<FaultSettings>> {
    admin(&st, &headers)?;
    let faults = Faults::new(st);
    faults
        .apply(change)
        .map_err(|e| ApiError::validation(e.to_string()))?;
    Ok(Json(faults.settings()))
}

pub(crate) async fn clear(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
) -> ApiResult<Json<FaultSettings>> {
    admin(&st, &headers)?;
    let faults = Faults::new(st);
    faults.clear();
    Ok(Json(faults.settings()))
}
