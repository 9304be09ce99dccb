//! Shared by the integration tests: an emulator with a user, clients over it, an app
//! whose handlers report what the layer gave them, and response helpers.
#![allow(dead_code, reason = "each test file uses a different part")]
#![allow(clippy::unwrap_used)]

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::header::{CACHE_CONTROL, COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use supabase_auth_emulator::{Emulator, EmulatorConfig};
use supabase_ssr::adapter::codec::cookie_header_value;
use supabase_ssr::clock::{Clock, ManualClock, SystemClock};
use supabase_ssr::cookies::{Cookie, CookieJar};
use supabase_ssr::{SignOutScope, SupabaseAuth, SupabaseAuthBuilder};
use supabase_ssr_axum::{AuthOutcome, MaybeVerified, Supabase, SupabaseLayer, Verified};
use tower::ServiceExt;

pub(crate) const EMAIL: &str = "ada@example.com";
pub(crate) const PASSWORD: &str = "correct horse battery staple";
/// The session cookie's name for a project on 127.0.0.1.
pub(crate) const SESSION: &str = "sb-127-auth-token";
/// The attributes of every cookie written, in `cookie.serialize` order.
pub(crate) const ATTRIBUTES: &str = "; Max-Age=34560000; Path=/; SameSite=Lax";
/// The deletion of the session cookie.
pub(crate) const SESSION_DELETION: &str = "sb-127-auth-token=; Max-Age=0; Path=/; SameSite=Lax";
pub(crate) const NO_STORE: &str = "private, no-cache, no-store, must-revalidate, max-age=0";

/// An emulator on 127.0.0.1:0 with an in-memory store and a confirmed user.
pub(crate) async fn emulator() -> Emulator {
    let emu = EmulatorConfig::default().start().await.unwrap();
    emu.create_user(EMAIL, PASSWORD).await.unwrap();
    emu.clear_requests();
    emu
}

pub(crate) fn builder(emu: &Emulator) -> SupabaseAuthBuilder {
    SupabaseAuth::builder(emu.url(), emu.publishable_key()).retry_budget(Duration::from_millis(800))
}

pub(crate) fn auth(emu: &Emulator) -> SupabaseAuth {
    builder(emu).build().unwrap()
}

/// Moves the emulator's clock `secs` ahead and returns a client clock at the same time.
pub(crate) fn clock_ahead(emu: &Emulator, secs: u64) -> ManualClock {
    emu.advance_clock(Duration::from_secs(secs));
    ManualClock::new(SystemClock.now_millis() + i64::try_from(secs).unwrap() * 1000)
}

/// A client whose clock (and the emulator's) is `secs` ahead: 3550 puts a fresh
/// session inside the 90 s refresh margin, 3700 past its expiry.
pub(crate) fn auth_ahead(emu: &Emulator, secs: u64) -> SupabaseAuth {
    builder(emu).clock(clock_ahead(emu, secs)).build().unwrap()
}

/// Signs in through a fresh client and returns the browser's cookies afterwards.
pub(crate) async fn signed_in_cookies(auth: &SupabaseAuth) -> Vec<Cookie> {
    let jar = Arc::new(CookieJar::default());
    auth.server_client(jar.clone())
        .sign_in_with_password(EMAIL, PASSWORD)
        .await
        .unwrap();
    jar.cookies()
}

/// The value of the cookie `name`.
pub(crate) fn value_of<'a>(cookies: &'a [Cookie], name: &str) -> &'a str {
    &cookies.iter().find(|c| c.name == name).unwrap().value
}

pub(crate) fn header_of(cookies: &[Cookie]) -> String {
    cookie_header_value(cookies)
}

/// `POST /token?grant_type=refresh_token` requests the emulator served.
pub(crate) fn refreshes(emu: &Emulator) -> usize {
    emu.requests()
        .iter()
        .filter(|r| {
            r.method == "POST"
                && r.path.ends_with("/token")
                && r.query.contains("grant_type=refresh_token")
        })
        .count()
}

/// What the core writes for these cookies with this client, computed apart from the
/// layer: the `Set-Cookie` lines and the `Cookie` header seen downstream. Called after
/// the layer's request, it shares that refresh (same refresh token, within the reuse
/// window), so it makes no request of its own.
pub(crate) async fn expected_writes(
    auth: &SupabaseAuth,
    cookies: &[Cookie],
) -> (Vec<String>, String) {
    let jar = Arc::new(CookieJar::new(cookies.to_vec()));
    auth.server_client(jar.clone()).get_claims().await.unwrap();
    (jar.set_cookie_headers(), jar.cookie_header())
}

/// Reports what the layer gave the handler.
pub(crate) async fn echo(
    headers: HeaderMap,
    outcome: Option<AuthOutcome>,
    supabase: Option<Supabase>,
    MaybeVerified(claims): MaybeVerified,
) -> Json<Value> {
    let cookie: Vec<String> = headers
        .get_all(COOKIE)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    let outcome = outcome.map(|o| match o {
        AuthOutcome::Verified(_) => "verified",
        AuthOutcome::NoSession => "no_session",
        AuthOutcome::Failed(e) if e.is_transient() => "failed_transient",
        AuthOutcome::Failed(_) => "failed",
        _ => "other",
    });
    Json(json!({
        "cookie": cookie,
        "outcome": outcome,
        "client": supabase.is_some(),
        "email": claims.and_then(|c| c.email.clone()),
    }))
}

async fn dashboard(Verified(claims): Verified) -> String {
    format!(
        "dashboard of {}",
        claims.email.as_deref().unwrap_or_default()
    )
}

async fn boom(MaybeVerified(_): MaybeVerified) -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response()
}

async fn redirect() -> Redirect {
    Redirect::to("/elsewhere")
}

async fn cached() -> Response {
    ([(CACHE_CONTROL, "public, max-age=3600")], "cacheable").into_response()
}

async fn sign_in(supabase: Supabase) -> Response {
    match supabase.sign_in_with_password(EMAIL, PASSWORD).await {
        Ok(_) => Redirect::to("/dashboard").into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

async fn sign_out(supabase: Supabase) -> Response {
    match supabase.sign_out(SignOutScope::Local).await {
        Ok(()) => Redirect::to("/").into_response(),
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}

/// Signs out and also sets the deletion line (and a cookie of its own) by hand.
async fn sign_out_by_hand(supabase: Supabase) -> Response {
    supabase.sign_out(SignOutScope::Local).await.unwrap();
    let mut res = Redirect::to("/").into_response();
    res.headers_mut()
        .append(SET_COOKIE, HeaderValue::from_static(SESSION_DELETION));
    res.headers_mut()
        .append(SET_COOKIE, HeaderValue::from_static("theme=dark; Path=/"));
    res
}

/// The routes, without the layer.
pub(crate) fn routes() -> Router {
    Router::new()
        .route("/dashboard", get(dashboard))
        .route("/boom", get(boom))
        .route("/redirect", get(redirect))
        .route("/cached", get(cached))
        .route("/sign-in", post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/sign-out-by-hand", post(sign_out_by_hand))
        .fallback(echo)
}

pub(crate) fn app(layer: SupabaseLayer) -> Router {
    routes().layer(layer)
}

/// A request with one `Cookie` field per entry of `cookie_fields`.
pub(crate) fn request(method: &str, uri: &str, cookie_fields: &[&str]) -> Request<Body> {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .unwrap();
    for field in cookie_fields {
        req.headers_mut()
            .append(COOKIE, HeaderValue::from_str(field).unwrap());
    }
    req
}

pub(crate) fn get_with(uri: &str, cookie_fields: &[&str]) -> Request<Body> {
    request("GET", uri, cookie_fields)
}

/// A response, read whole.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Answer {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    pub(crate) fn set_cookies(&self) -> Vec<String> {
        all(&self.headers, SET_COOKIE.as_str())
    }

    pub(crate) fn header(&self, name: &str) -> Vec<String> {
        all(&self.headers, name)
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

fn all(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// The cache headers a response carrying cookies has.
pub(crate) fn no_store() -> (Vec<String>, Vec<String>, Vec<String>) {
    (
        vec![NO_STORE.into()],
        vec!["0".into()],
        vec!["no-cache".into()],
    )
}

pub(crate) fn no_cache_headers() -> (Vec<String>, Vec<String>, Vec<String>) {
    (vec![], vec![], vec![])
}

/// Runs one request through `app` in process.
pub(crate) async fn send(app: &Router, req: Request<Body>) -> Answer {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    Answer {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

/// Everything logged on this thread while the guard lives, as text.
pub(crate) fn capture_logs() -> (tracing::subscriber::DefaultGuard, Logs) {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (tracing::subscriber::set_default(subscriber), logs)
}

#[derive(Clone, Default)]
pub(crate) struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
