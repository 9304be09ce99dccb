//! The servers under load: a plain axum hello route, the same route behind our proxy
//! (session cookie), and the same route behind `ApiAuthLayer` (bearer token). Run as
//! `bench serve plain|proxy|api ...` in a child process so the parent can pin it to one
//! core and drive it with wrk from the other.

use axum::Router;
use axum::routing::get;
use supabase_ssr::SupabaseAuth;
use supabase_ssr::api_auth::AuthMode;
use supabase_ssr_axum::{ApiAuthLayer, ApiUser, SupabaseLayer, Verified};
use tokio::io::AsyncReadExt as _;

use crate::common::OffsetClock;

pub(crate) const BODY: &str = "Hello, World!";

/// `GET /` answers "Hello, World!", nothing else.
///
/// Both routers end with `with_state(())`, which turns their handlers into services
/// once: without it, axum 0.8 rebuilds each handler's service, layers included, on
/// every request.
pub(crate) fn plain() -> Router {
    Router::new()
        .route("/", get(|| async { BODY }))
        .with_state(())
}

/// The same route behind `SupabaseLayer`; the handler insists on verified claims, so a
/// request that did not verify gets a 401 and wrk counts it as an error.
pub(crate) fn proxy(auth: SupabaseAuth) -> Router {
    Router::new()
        .route("/", get(|Verified(_claims): Verified| async { BODY }))
        .layer(SupabaseLayer::new(auth))
        .with_state(())
}

/// The same route behind `ApiAuthLayer` in mode `user` (a valid
/// `Authorization: Bearer <access token>`), as `@supabase/server`'s
/// `withSupabase({ auth: "user" })`; the handler takes `ApiUser`, so a request that did
/// not verify gets a 401 and wrk counts it as an error.
pub(crate) fn api(auth: SupabaseAuth) -> Router {
    Router::new()
        .route("/", get(|ApiUser(_user): ApiUser| async { BODY }))
        .route_layer(ApiAuthLayer::new(auth, [AuthMode::User]))
        .with_state(())
}

/// A `SupabaseAuth` for the emulator at `url`, with the defaults, optionally living
/// `clock_offset_ms` ahead of the system clock.
pub(crate) fn auth(url: &str, key: &str, clock_offset_ms: i64) -> Result<SupabaseAuth, String> {
    SupabaseAuth::builder(url, key)
        .clock(OffsetClock(clock_offset_ms))
        .build()
        .map_err(|e| e.to_string())
}

/// `bench serve plain`, `bench serve proxy URL KEY` or `bench serve api URL KEY`: serves on 127.0.0.1 (a free
/// port), prints `listening PORT`, and stops when stdin closes (the parent exited or
/// is done). One thread: the server gets one core, as the Node.js server does.
pub(crate) fn serve_child(args: &[String]) -> Result<(), String> {
    let app = match args {
        [kind] if kind == "plain" => plain(),
        [kind, url, key] if kind == "proxy" => proxy(auth(url, key, 0)?),
        [kind, url, key] if kind == "api" => api(auth(url, key, 0)?),
        _ => return Err("usage: bench serve plain | bench serve proxy|api URL KEY".into()),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| e.to_string())?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        println!("listening {port}");
        let stdin_closed = async {
            let mut sink = Vec::new();
            let _ = tokio::io::stdin().read_to_end(&mut sink).await;
        };
        axum::serve(listener, app)
            .with_graceful_shutdown(stdin_closed)
            .await
            .map_err(|e| e.to_string())
    })
}
