//! Request extractors that fail with GoTrue's errors, never axum's plain-text ones.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// Largest accepted request body (GoTrue's `limitRequestBody(1 << 20)`).
pub(crate) const MAX_BODY: usize = 1 << 20;

/// The raw body, at most 1 MiB (else 413 `request_entity_too_large`).
pub(crate) struct LimitedBody(pub(crate) Bytes);

impl<S: Send + Sync> FromRequest<S> for LimitedBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state)
            .await
            .map(LimitedBody)
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "request_entity_too_large",
                        format!("Request body too large (max {MAX_BODY} bytes)"),
                    )
                } else {
                    ApiError::bad_request("bad_json", "Could not read request body")
                }
            })
    }
}

/// Parses a JSON body: 400 `bad_json` when unparseable.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(
            "bad_json",
            format!("Could not parse request body as JSON: {e}"),
        )
    })
}

/// A JSON body: 413 `request_entity_too_large` over 1 MiB, 400 `bad_json` when unparseable.
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let LimitedBody(bytes) = LimitedBody::from_request(req, state).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// The query string as a map (last value wins); never rejects.
#[derive(Debug, Default)]
pub(crate) struct QueryMap(pub(crate) HashMap<String, String>);

impl QueryMap {
    /// A non-empty value for `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryMap {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let map = parts
            .uri
            .query()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        Ok(QueryMap(map))
    }
}

/// What the gateway decided about the caller: the `Authorization` value GoTrue sees.
#[derive(Debug, Clone, Default)]
pub(crate) struct Caller {
    pub(crate) authorization: Option<String>,
    pub(crate) user_agent: Option<String>,
    /// The `redirect_to` header, if any (GoTrue checks it before the query).
    pub(crate) redirect_header: Option<String>,
    pub(crate) referer: Option<String>,
    /// The client address as GoTrue's `GetIPAddress` sees it: the first valid
    /// `X-Forwarded-For` entry, else the peer address (empty when unknown).
    pub(crate) ip: String,
}

impl Caller {
    /// The bearer token, or 401 `no_authorization`.
    pub(crate) fn bearer(&self) -> Result<&str, ApiError> {
        self.authorization
            .as_deref()
            .and_then(crate::apikeys::bearer_token)
            .ok_or_else(ApiError::no_authorization)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Caller>()
            .cloned()
            .unwrap_or_default())
    }
}
