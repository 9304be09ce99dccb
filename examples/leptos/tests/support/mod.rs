//! The app on a free port with a clock the test moves, browser-like clients, and readers
//! of what a response carries.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use base64::Engine as _;
use leptos_app::{Config, DEMO_EMAIL, DEMO_PASSWORD};
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue, LOCATION, ORIGIN, SET_COOKIE};
use supabase_ssr::clock::{Clock, SystemClock};

/// Access tokens live 60 s and are refreshed with fewer than 20 s left: moving time by
/// 50 s makes exactly the next request refresh.
pub(crate) const TOKEN_LIFETIME: Duration = Duration::from_secs(60);
const REFRESH_MARGIN: Duration = Duration::from_secs(20);
pub(crate) const INTO_THE_MARGIN: Duration = Duration::from_secs(50);

/// The system clock plus an offset the test moves.
#[derive(Clone, Default)]
struct OffsetClock(Arc<AtomicI64>);

impl Clock for OffsetClock {
    fn now_millis(&self) -> i64 {
        SystemClock.now_millis() + self.0.load(Ordering::SeqCst)
    }
}

pub(crate) struct Harness {
    pub(crate) app: leptos_app::App,
    clock: OffsetClock,
}

impl Harness {
    pub(crate) async fn start() -> Self {
        let clock = OffsetClock::default();
        let app = leptos_app::run(
            Config::emulator()
                .port(0)
                .jwt_exp(TOKEN_LIFETIME)
                .refresh_margin(REFRESH_MARGIN)
                .clock(clock.clone()),
        )
        .await
        .unwrap();
        Self { app, clock }
    }

    /// Moves the app's clock and the emulator's together.
    pub(crate) fn advance(&self, by: Duration) {
        let millis = i64::try_from(by.as_millis()).unwrap();
        self.clock.0.fetch_add(millis, Ordering::SeqCst);
        self.app.emulator().unwrap().advance_clock(by);
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.app.url())
    }

    /// A browser-like client: its own cookie jar, redirects not followed, `Accept:
    /// text/html` as a navigation or a form post sends it.
    pub(crate) fn browser(&self) -> reqwest::Client {
        let mut headers = HeaderMap::new();
        headers.insert(
            ACCEPT,
            HeaderValue::from_static("text/html,application/xhtml+xml"),
        );
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .default_headers(headers)
            .build()
            .unwrap()
    }

    pub(crate) async fn get(&self, client: &reqwest::Client, path: &str) -> reqwest::Response {
        client.get(self.url(path)).send().await.unwrap()
    }

    /// A form post to a server function, from a page of this app.
    pub(crate) async fn post(
        &self,
        client: &reqwest::Client,
        path: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        client
            .post(self.url(path))
            .header(ORIGIN, self.app.url())
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn sign_in(&self, client: &reqwest::Client) -> reqwest::Response {
        self.post(
            client,
            "/api/sign_in",
            &[("email", DEMO_EMAIL), ("password", DEMO_PASSWORD)],
        )
        .await
    }
}

pub(crate) fn location(res: &reqwest::Response) -> &str {
    res.headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

pub(crate) fn set_cookies(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// The names of the cookies a response sets, in order.
pub(crate) fn set_cookie_names(res: &reqwest::Response) -> Vec<String> {
    set_cookies(res)
        .iter()
        .map(|line| line.split_once('=').unwrap().0.to_owned())
        .collect()
}

/// The session a `Set-Cookie` line holds (`base64-` + base64url JSON, one chunk).
pub(crate) fn session_of(set_cookie: &str) -> serde_json::Value {
    let value = set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1;
    let encoded = value.strip_prefix("base64-").unwrap();
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .unwrap();
    serde_json::from_slice(&json).unwrap()
}

/// The payload of a JWT, unverified (the test only reads what it was given).
pub(crate) fn claims_of(jwt: &str) -> serde_json::Value {
    let payload = jwt.split('.').nth(1).unwrap();
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&json).unwrap()
}

/// The `data-exp` of the protected page: the verified token's `exp`.
pub(crate) fn shown_exp(body: &str) -> i64 {
    let start = body.find("data-exp=\"").unwrap() + "data-exp=\"".len();
    let end = start + body[start..].find('"').unwrap();
    body[start..end].parse().unwrap()
}
