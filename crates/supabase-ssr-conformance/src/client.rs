//! The HTTP side of the scenarios: requests with exact headers, answers read whole.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

use crate::RunningApp;

/// A client that follows no redirect and keeps no cookie: every header is the
/// scenario's.
pub(crate) fn http() -> reqwest::Client {
    #[allow(clippy::unwrap_used, reason = "a test that cannot start fails")]
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A response, read whole.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

#[allow(
    clippy::unwrap_used,
    reason = "a scenario fails on what it did not expect"
)]
impl Answer {
    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// Every value of `name`, in order.
    pub(crate) fn header(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }

    pub(crate) fn set_cookies(&self) -> Vec<String> {
        self.header("set-cookie")
    }

    /// The cache headers, as `(Cache-Control, Expires, Pragma)` values.
    pub(crate) fn cache_headers(&self) -> (Vec<String>, Vec<String>, Vec<String>) {
        (
            self.header("cache-control"),
            self.header("expires"),
            self.header("pragma"),
        )
    }
}

/// Sends `method path` with these headers (each appended, so a name may repeat) and an
/// optional form body.
#[allow(
    clippy::unwrap_used,
    reason = "a scenario fails on what it did not expect"
)]
pub(crate) async fn send(
    app: &RunningApp,
    method: &str,
    path: &str,
    headers: &[(&str, &[u8])],
) -> Answer {
    let mut request = http().request(method.parse().unwrap(), app.url(path));
    for (name, value) in headers {
        request = request.header(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_bytes(value).unwrap(),
        );
    }
    let response = request.send().await.unwrap();
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.bytes().await.unwrap().to_vec(),
    }
}

/// `GET path` with one `Cookie` field per entry.
pub(crate) async fn get_with(app: &RunningApp, path: &str, cookie_fields: &[&str]) -> Answer {
    let headers: Vec<(&str, &[u8])> = cookie_fields
        .iter()
        .map(|field| ("cookie", field.as_bytes()))
        .collect();
    send(app, "GET", path, &headers).await
}
