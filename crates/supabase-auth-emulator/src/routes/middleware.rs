//! Cross-cutting layers: request log (the single fault-injection point), CORS,
//! the gateway's API-key check, and API-version error rendering.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::error::ApiError;
use super::extract::Caller;
use crate::RecordedRequest;
use crate::apikeys;
use crate::fault::FaultState;
use crate::state::AppState;

/// Outermost layer: records every request, then serves it.
///
/// This is the one place every request passes before routing, so the fault mode
/// (latency, injected 5xx/429, dropped connections, JWKS outage) hooks in here: a
/// faulted request is still recorded.
pub(crate) async fn record(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let recorded = RecordedRequest {
        method: req.method().to_string(),
        path: req.uri().path().to_string(),
        query: req.uri().query().unwrap_or("").to_string(),
        headers: req
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
    };
    st.request_log().push(recorded);
    let v2024 = wants_v2024(req.headers());
    if let Some(faulted) = FaultState::intercept(&st, req.uri().path(), v2024).await {
        return faulted;
    }
    next.run(req).await
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// CORS as the Supabase gateway answers it: any origin, reflected request headers.
pub(crate) async fn cors(req: Request, next: Next) -> Response {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let requested = req
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned();
    let mut res = if req.method() == Method::OPTIONS {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(req).await
    };
    let h = res.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        origin.clone().unwrap_or(HeaderValue::from_static("*")),
    );
    if origin.is_some() {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        h.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        requested.unwrap_or(HeaderValue::from_static(
            "authorization, apikey, content-type, x-client-info, x-supabase-api-version",
        )),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("X-Total-Count, Link, X-Supabase-Api-Version, x-sb-error-code"),
    );
    res
}

/// Routes the gateway serves without an API key (with or without the `/auth/v1`
/// prefix, which the nest may strip).
fn is_open_route(path: &str) -> bool {
    let path = path.strip_prefix("/auth/v1").unwrap_or(path);
    matches!(
        path,
        "/verify" | "/callback" | "/authorize" | "/.well-known/jwks.json"
    )
}

fn gateway_error(message: &str, hint: &str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(json!({ "message": message, "hint": hint })),
    )
        .into_response()
}

/// The API gateway in front of `/auth/v1`: checks the `apikey` (header or query)
/// and computes the `Authorization` GoTrue sees.
pub(crate) async fn gateway(
    State(st): State<Arc<AppState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let headers = req.headers();
    let query_key = req.uri().query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "apikey")
            .map(|(_, v)| v.into_owned())
    });
    let apikey = header_str(headers, "apikey")
        .map(str::to_string)
        .or(query_key);
    if st.config.require_api_key && !is_open_route(req.uri().path()) {
        match apikey.as_deref() {
            None => {
                return gateway_error(
                    "No API key found in request",
                    "No `apikey` request header or url param was found.",
                );
            }
            Some(k) if apikeys::role_of(k).is_none() => {
                return gateway_error(
                    "Invalid API key",
                    "Double check your Supabase `anon` or `service_role` API key.",
                );
            }
            Some(_) => {}
        }
    }
    let caller = Caller {
        authorization: apikeys::effective_authorization(
            header_str(headers, "authorization"),
            apikey.as_deref(),
        ),
        user_agent: header_str(headers, "user-agent").map(str::to_string),
        redirect_header: header_str(headers, "redirect_to").map(str::to_string),
        referer: header_str(headers, "referer").map(str::to_string),
        ip: client_ip(&req),
    };
    req.extensions_mut().insert(caller);
    next.run(req).await
}

/// GoTrue's `getIPAddressWithXFF`: the first `X-Forwarded-For` entry that parses as an
/// IP address (IPv4-mapped IPv6 written as IPv4, as Go's `net.IP.String` does), else
/// the peer address.
fn client_ip(req: &Request) -> String {
    let forwarded = header_str(req.headers(), "x-forwarded-for").and_then(|xff| {
        xff.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .find_map(|s| s.parse::<std::net::IpAddr>().ok())
    });
    if let Some(ip) = forwarded {
        return ip.to_canonical().to_string();
    }
    req.extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip().to_canonical().to_string())
        .unwrap_or_default()
}

/// Whether the request asked for API version 2024-01-01 or later.
fn wants_v2024(headers: &HeaderMap) -> bool {
    let Some(v) = header_str(headers, "x-supabase-api-version") else {
        return false;
    };
    let parts: Vec<&str> = v.trim().split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return false;
    };
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<u32>(), m.parse::<u32>(), d.parse::<u32>()) else {
        return false;
    };
    y.checked_mul(10_000)
        .and_then(|v| v.checked_add(m * 100 + d))
        .is_some_and(|date| (1..=12).contains(&m) && (1..=31).contains(&d) && date >= 20_240_101)
}

/// Renders [`ApiError`]s in the shape the request's `X-Supabase-Api-Version` selects.
pub(crate) async fn api_version(req: Request, next: Next) -> Response {
    let v2024 = wants_v2024(req.headers());
    let mut res = next.run(req).await;
    if !v2024 {
        return res;
    }
    let Some(err) = res.extensions_mut().remove::<ApiError>() else {
        return res;
    };
    let status = res.status();
    let mut headers = std::mem::take(res.headers_mut());
    headers.insert(
        "x-supabase-api-version",
        HeaderValue::from_static("2024-01-01"),
    );
    let body = err.v2024_body().to_string();
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    let mut out = Response::new(Body::from(body));
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    out
}
