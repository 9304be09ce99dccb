//! The Supabase Auth HTTP client.
//!
//! [`AuthApi`] sends the requests auth-js 2.119.1 sends, byte for byte in body and
//! headers, and reads answers and errors the way auth-js does. It keeps no session
//! state: the server client decides what to store.
//!
//! - `request`: URL, headers, body, one exchange bounded by a timeout;
//! - `response`: auth-js's `handleError` and the shapes answers must have;
//! - `endpoints`: one method per endpoint;
//! - `retry`: the refresh call, retried within a time budget;
//! - `types`: arguments and answers.

mod endpoints;
mod request;
mod response;
mod retry;
mod types;

#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;

use crate::AuthError;

pub use types::{Identifier, SignOutScope};
pub(crate) use types::{OtpParams, SignUpParams, SignUpResponse, VerifyResponse};

/// Tuning of [`AuthApi`].
#[derive(Clone)]
pub(crate) struct ApiOptions {
    /// Longest a refresh may take, all attempts and back-off sleeps included.
    pub(crate) retry_budget: Duration,
    /// Longest any other request may take, answer body included.
    pub(crate) request_timeout: Duration,
    /// `X-Client-Info` value.
    pub(crate) client_info: String,
    /// Headers sent with every request, after the defaults (so they can replace them).
    pub(crate) extra_headers: Vec<(String, String)>,
}

impl Default for ApiOptions {
    fn default() -> Self {
        Self {
            retry_budget: Duration::from_secs(3),
            request_timeout: Duration::from_secs(10),
            client_info: concat!("supabase-ssr-rs/", env!("CARGO_PKG_VERSION")).to_owned(),
            extra_headers: Vec::new(),
        }
    }
}

impl fmt::Debug for ApiOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.extra_headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("ApiOptions")
            .field("retry_budget", &self.retry_budget)
            .field("request_timeout", &self.request_timeout)
            .field("client_info", &self.client_info)
            .field("extra_headers", &names)
            .finish()
    }
}

/// A client of one project's Auth server. Cheap to clone.
#[derive(Clone)]
pub(crate) struct AuthApi {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// Without a trailing slash, e.g. `http://127.0.0.1:54321/auth/v1`.
    auth_url: String,
    /// Every request's headers, precomputed (API key values marked sensitive).
    headers: HeaderMap,
    retry_budget: Duration,
    request_timeout: Duration,
}

impl AuthApi {
    /// A client for the Auth server at `auth_url`.
    ///
    /// Fails with an invalid-input error if `auth_url` is not an absolute http(s) URL,
    /// or if the key, client info or an extra header cannot be sent as a header.
    pub(crate) fn new(
        http: reqwest::Client,
        auth_url: &str,
        api_key: &str,
        options: ApiOptions,
    ) -> Result<Self, AuthError> {
        let auth_url = auth_url.trim_end_matches('/');
        match url::Url::parse(auth_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.query().is_none() => {}
            _ => {
                return Err(AuthError::invalid_input(
                    "the auth URL is not an http(s) URL",
                ));
            }
        }
        let headers =
            request::default_headers(api_key, &options.client_info, &options.extra_headers)?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                auth_url: auth_url.to_owned(),
                headers,
                retry_budget: options.retry_budget,
                request_timeout: options.request_timeout,
            }),
        })
    }

    #[cfg(test)]
    /// The base URL, without a trailing slash.
    pub(crate) fn auth_url(&self) -> &str {
        &self.inner.auth_url
    }
}

impl fmt::Debug for AuthApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthApi")
            .field("auth_url", &self.inner.auth_url)
            .field("api_key", &"<redacted>")
            .field("retry_budget", &self.inner.retry_budget)
            .field("request_timeout", &self.inner.request_timeout)
            .finish_non_exhaustive()
    }
}
