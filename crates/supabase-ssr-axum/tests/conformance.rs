//! The shared conformance suite (crates/supabase-ssr-conformance) against the axum layer,
//! over real HTTP.
#![allow(clippy::unwrap_used)]

use axum::Router;
use axum::http::header::{CACHE_CONTROL, COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use supabase_ssr::SignOutScope;
use supabase_ssr::api_auth::AuthMode;
use supabase_ssr_axum::{
    ApiAuthLayer, ApiCaller, AuthOutcome, MaybeVerified, Supabase, SupabaseLayer, Verified,
};
use supabase_ssr_conformance::{
    AppConfig, AppUnderTest, EMAIL, PASSWORD, RunningApp, caller_body, echo_body, unlayered,
};

struct AxumApp;

async fn echo(
    headers: HeaderMap,
    outcome: Option<AuthOutcome>,
    supabase: Option<Supabase>,
    MaybeVerified(claims): MaybeVerified,
) -> String {
    let outcome = outcome.map(|o| match o {
        AuthOutcome::Verified(_) => "verified",
        AuthOutcome::NoSession => "no_session",
        AuthOutcome::Failed(e) if e.is_transient() => "failed_transient",
        AuthOutcome::Failed(_) => "failed",
        _ => "other",
    });
    echo_body(
        headers.get_all(COOKIE).iter().map(HeaderValue::as_bytes),
        outcome,
        supabase.is_some(),
        claims.as_ref().and_then(|c| c.email.as_deref()),
    )
}

async fn echo_bytes(headers: HeaderMap) -> Vec<u8> {
    let fields: Vec<&[u8]> = headers
        .get_all(COOKIE)
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();
    fields.join(&b'\n')
}

async fn dashboard(Verified(claims): Verified) -> String {
    format!(
        "dashboard of {}",
        claims.email.as_deref().unwrap_or_default()
    )
}

fn see_other(to: &'static str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, to)]).into_response()
}

async fn sign_in(supabase: Supabase) -> Response {
    match supabase.sign_in_with_password(EMAIL, PASSWORD).await {
        Ok(_) => see_other("/dashboard"),
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

async fn sign_out(supabase: Supabase) -> Response {
    match supabase.sign_out(SignOutScope::Local).await {
        Ok(()) => see_other("/"),
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}

async fn sign_out_by_hand(supabase: Supabase) -> Response {
    let mut res = sign_out(supabase).await;
    for line in [
        "sb-127-auth-token=; Max-Age=0; Path=/; SameSite=Lax",
        "theme=dark; Path=/",
    ] {
        res.headers_mut()
            .append(SET_COOKIE, HeaderValue::from_static(line));
    }
    res
}

async fn caller(ApiCaller(caller): ApiCaller) -> String {
    caller_body(&caller)
}

fn api(config: &AppConfig, path: &str, modes: &[&str]) -> Router {
    let modes: Vec<AuthMode> = modes.iter().map(|m| m.parse().unwrap()).collect();
    Router::new()
        .route(path, get(caller))
        .route_layer(ApiAuthLayer::new(config.auth.clone(), modes))
}

fn app(config: &AppConfig) -> Router {
    let mut layer =
        SupabaseLayer::new(config.auth.clone()).skip_if(|parts| unlayered(parts.uri.path()));
    if let Some(login_path) = &config.login_path {
        layer = layer.login_path(login_path);
    }
    Router::new()
        .route("/echo", get(echo))
        .route("/assets/echo.css", get(echo))
        .route("/echo-bytes", get(echo_bytes))
        .route("/dashboard", get(dashboard))
        .route("/unlayered/dashboard", get(dashboard))
        .route("/unlayered/client", get(|_: Supabase| async { "client" }))
        .route(
            "/boom",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
        )
        .route("/redirect", get(|| async { see_other("/elsewhere") }))
        .route(
            "/cached",
            get(|| async { ([(CACHE_CONTROL, "public, max-age=3600")], "cacheable") }),
        )
        .route("/sign-in", post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/sign-out-by-hand", post(sign_out_by_hand))
        .merge(api(config, "/api/user", &["user"]))
        .merge(api(config, "/api/open", &["user", "none"]))
        .merge(api(config, "/api/key", &["secret:*", "publishable:*"]))
        .merge(api(config, "/api/session", &["session"]))
        .layer(layer)
}

impl AppUnderTest for AxumApp {
    fn serve(config: AppConfig) -> RunningApp {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        let server = tokio::spawn(axum::serve(listener, app(&config)).into_future());
        RunningApp::new(addr, move || server.abort())
    }
}

supabase_ssr_conformance::conformance_suite!(AxumApp);
