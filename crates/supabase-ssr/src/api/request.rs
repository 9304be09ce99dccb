//! Building and sending one request the way auth-js's `_request` does.

use std::time::Duration;

use reqwest::Method;
use reqwest::header::{
    AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue,
};
use serde_json::Value;

use super::AuthApi;
use crate::AuthError;

/// The API version auth-js 2.119.1 always asks for.
pub(crate) const API_VERSION: &str = "2024-01-01";
/// The request and response header that carries it.
pub(crate) const API_VERSION_HEADER: &str = "x-supabase-api-version";
/// auth-js's `Content-Type` for every non-GET request.
pub(crate) const JSON_CONTENT_TYPE: &str = "application/json;charset=UTF-8";

/// One request to the Auth server.
pub(crate) struct Call<'a> {
    method: Method,
    /// Path under the auth URL, possibly with a fixed query (`/token?grant_type=pkce`).
    path: &'a str,
    /// Extra query pairs, encoded like `URLSearchParams` (auth-js's `redirect_to`).
    query: Vec<(&'static str, &'a str)>,
    /// A user access token replacing the API key in `Authorization`.
    jwt: Option<&'a str>,
    /// JSON body; `None` sends no body (auth-js's `JSON.stringify(undefined)`).
    body: Option<Value>,
}

impl<'a> Call<'a> {
    pub(crate) fn get(path: &'a str) -> Self {
        Self::new(Method::GET, path)
    }

    pub(crate) fn post(path: &'a str) -> Self {
        Self::new(Method::POST, path)
    }

    pub(crate) fn put(path: &'a str) -> Self {
        Self::new(Method::PUT, path)
    }

    pub(crate) fn delete(path: &'a str) -> Self {
        Self::new(Method::DELETE, path)
    }

    fn new(method: Method, path: &'a str) -> Self {
        Self {
            method,
            path,
            query: Vec::new(),
            jwt: None,
            body: None,
        }
    }

    /// Adds `redirect_to` to the query; an empty value is skipped, as in auth-js.
    pub(crate) fn redirect_to(mut self, redirect_to: Option<&'a str>) -> Self {
        if let Some(url) = redirect_to.filter(|u| !u.is_empty()) {
            self.query.push(("redirect_to", url));
        }
        self
    }

    pub(crate) fn jwt(mut self, jwt: &'a str) -> Self {
        self.jwt = Some(jwt);
        self
    }

    pub(crate) fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }
}

/// A complete answer: status, headers and the whole body.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// The headers every request carries, in auth-js's precedence: defaults, then the
/// caller's extra headers, then the API version unless the caller set one.
pub(crate) fn default_headers(
    api_key: &str,
    client_info: &str,
    extra: &[(String, String)],
) -> Result<HeaderMap, AuthError> {
    let mut headers = HeaderMap::new();
    headers.insert("apikey", secret_value(api_key, "the API key")?);
    headers.insert(
        AUTHORIZATION,
        secret_value(&format!("Bearer {api_key}"), "the API key")?,
    );
    let info = HeaderValue::from_str(client_info)
        .map_err(|_| AuthError::invalid_input("X-Client-Info is not a valid header value"))?;
    headers.insert("x-client-info", info);
    for (name, value) in extra {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| AuthError::invalid_input("an extra header has an invalid name"))?;
        let mut header_value = HeaderValue::from_str(value).map_err(|_| {
            AuthError::invalid_input(format!("extra header {header} has an invalid value"))
        })?;
        // Custom headers may well be credentials; keep them out of debug output.
        header_value.set_sensitive(true);
        headers.insert(header, header_value);
    }
    if !headers.contains_key(API_VERSION_HEADER) {
        headers.insert(API_VERSION_HEADER, HeaderValue::from_static(API_VERSION));
    }
    Ok(headers)
}

/// A header value that debug output shows as `Sensitive`.
fn secret_value(value: &str, what: &str) -> Result<HeaderValue, AuthError> {
    let mut header = HeaderValue::from_str(value)
        .map_err(|_| AuthError::invalid_input(format!("{what} is not a valid header value")))?;
    header.set_sensitive(true);
    Ok(header)
}

impl AuthApi {
    /// `{auth_url}{path}` plus the call's query, encoded as `URLSearchParams` does.
    pub(crate) fn url_for(&self, call: &Call<'_>) -> String {
        let mut url = format!("{}{}", self.inner.auth_url, call.path);
        if !call.query.is_empty() {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            for (name, value) in &call.query {
                query.append_pair(name, value);
            }
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&query.finish());
        }
        url
    }

    /// Sends `call` and reads the whole answer, all within `timeout`. Any status is
    /// returned as is; the caller decides what is an error.
    pub(crate) async fn send(
        &self,
        call: &Call<'_>,
        timeout: Duration,
    ) -> Result<RawResponse, AuthError> {
        let mut headers = self.inner.headers.clone();
        if let Some(jwt) = call.jwt {
            headers.insert(
                AUTHORIZATION,
                secret_value(&format!("Bearer {jwt}"), "the access token")?,
            );
        }
        let mut request = self
            .inner
            .http
            .request(call.method.clone(), self.url_for(call));
        if call.method != Method::GET {
            if !headers.contains_key(CONTENT_TYPE) {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
            }
            match &call.body {
                Some(body) => {
                    // Serializing a `Value` cannot fail: its map keys are strings.
                    let bytes = serde_json::to_vec(body).map_err(|_| {
                        AuthError::invalid_input("request body is not serializable")
                    })?;
                    request = request.body(bytes);
                }
                // fetch sends `content-length: 0` for a POST without a body; hyper sends
                // no length at all unless told, and some gateways answer 411 to that.
                None => {
                    headers.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
                }
            }
        }
        let request = request.headers(headers);

        let exchange = async {
            let response = request.send().await.map_err(AuthError::from_reqwest)?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response.bytes().await.map_err(AuthError::from_reqwest)?;
            Ok(RawResponse {
                status,
                headers,
                body: body.to_vec(),
            })
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(AuthError::timeout(format!(
                "no complete answer within {} ms",
                timeout.as_millis()
            ))),
        }
    }
}
