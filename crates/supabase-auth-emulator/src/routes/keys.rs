//! The emulator's own key management routes (service role only):
//! `GET /emulator/v1/keys`, `POST /emulator/v1/keys/rotate`, `DELETE /emulator/v1/keys/{kid}`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::require_admin;
use super::error::{ApiError, ApiResult};
use super::extract::{Caller, JsonBody};
use crate::SigningAlg;
use crate::apikeys::effective_authorization;
use crate::state::AppState;

fn admin(st: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let caller = Caller {
        authorization: effective_authorization(get("authorization"), get("apikey")),
        ..Default::default()
    };
    require_admin(st, &caller).map(|_| ())
}

fn listing(st: &AppState) -> Value {
    let keys = st.keys();
    json!({ "current_kid": keys.current_kid(), "signing_alg": keys.current_alg().as_str(), "keys": keys.list() })
}

pub(crate) async fn list(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    admin(&st, &headers)?;
    Ok(Json(listing(&st)))
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RotateParams {
    #[serde(default)]
    alg: Option<String>,
}

pub(crate) async fn rotate(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    JsonBody(p): JsonBody<RotateParams>,
) -> ApiResult<Json<Value>> {
    admin(&st, &headers)?;
    let alg = match p.alg.as_deref().filter(|s| !s.is_empty()) {
        None => match st.keys().current_alg() {
            SigningAlg::Hs256 => SigningAlg::Es256,
            other => other,
        },
        Some(name) => match SigningAlg::parse(name) {
            Some(SigningAlg::Hs256) | None => {
                return Err(ApiError::validation(
                    "alg must be one of ES256, RS256, EdDSA",
                ));
            }
            Some(a) => a,
        },
    };
    let worker = st.clone();
    // RSA generation takes a while: keep it off the async workers.
    let kid = tokio::task::spawn_blocking(move || worker.rotate_key(alg))
        .await
        .map_err(|_| ApiError::internal())??;
    let mut out = listing(&st);
    if let Value::Object(m) = &mut out {
        m.insert("kid".into(), json!(kid));
    }
    Ok(Json(out))
}

pub(crate) async fn drop(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(kid): Path<String>,
) -> ApiResult<Json<Value>> {
    admin(&st, &headers)?;
    st.drop_key(&kid)
        .map_err(|e| ApiError::validation(e.to_string()))?;
    Ok(Json(listing(&st)))
}
