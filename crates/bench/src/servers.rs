//! The servers under load: a plain axum hello route, the same route behind our proxy
//! (session cookie), behind `ApiAuthLayer` (bearer token), and behind the bare signature
//! check of a bearer token. Run as `bench serve plain|proxy|api|bare ...` in a child
//! process so the parent can pin it to one core and drive it with wrk from the other.

use std::sync::Arc;

use aws_lc_rs::signature::ParsedPublicKey;
use axum::Router;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use supabase_ssr::SupabaseAuth;
use supabase_ssr::api_auth::AuthMode;
use supabase_ssr_axum::{ApiAuthLayer, ApiUser, SupabaseLayer, Verified};
use tokio::io::AsyncReadExt as _;

use crate::common::OffsetClock;
use crate::signer::es256_key;

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

/// The same route behind the bare ES256 signature check of `Authorization: Bearer
/// <token>` with a key parsed once: the floor under any verification. No claim is read,
/// nothing is cached; a bad signature gets a 401.
pub(crate) fn bare(key: ParsedPublicKey) -> Router {
    let key = Arc::new(key);
    Router::new()
        .route(
            "/",
            get(move |headers: HeaderMap| {
                let ok = signature_ok(&key, &headers);
                async move {
                    if ok {
                        (StatusCode::OK, BODY)
                    } else {
                        (StatusCode::UNAUTHORIZED, "")
                    }
                }
            }),
        )
        .with_state(())
}

fn signature_ok(key: &ParsedPublicKey, headers: &HeaderMap) -> bool {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some((input, signature)) = token.and_then(|t| t.rsplit_once('.')) else {
        return false;
    };
    URL_SAFE_NO_PAD
        .decode(signature)
        .is_ok_and(|signature| key.verify_sig(input.as_bytes(), &signature).is_ok())
}

/// A `SupabaseAuth` for the emulator at `url`, with the defaults, optionally living
/// `clock_offset_ms` ahead of the system clock.
pub(crate) fn auth(url: &str, key: &str, clock_offset_ms: i64) -> Result<SupabaseAuth, String> {
    SupabaseAuth::builder(url, key)
        .clock(OffsetClock(clock_offset_ms))
        .build()
        .map_err(|e| e.to_string())
}

/// A `bench serve` command line without its trailing `--threads N`, and N (1 without it).
pub(crate) fn split_threads(args: &[String]) -> (&[String], usize) {
    match args {
        [rest @ .., flag, n] if flag == "--threads" => (rest, n.parse().unwrap_or(1).max(1)),
        _ => (args, 1),
    }
}

/// `bench serve plain`, `bench serve proxy URL KEY` or `bench serve api URL KEY`: serves on 127.0.0.1 (a free
/// port), prints `listening PORT`, and stops when stdin closes (the parent exited or
/// is done). One thread by default, so the server gets one core as the Node.js server
/// does; `threads` > 1 is tokio's multi-thread runtime with that many workers.
pub(crate) fn serve_child(args: &[String], threads: usize) -> Result<(), String> {
    let runtime = if threads > 1 {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    }
    .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let app = match args {
            [kind] if kind == "plain" => plain(),
            [kind, url, key] if kind == "proxy" => proxy(auth(url, key, 0)?),
            [kind, url, key] if kind == "api" => api(auth(url, key, 0)?),
            [kind, url] if kind == "bare" => bare(project_key(url).await?),
            _ => {
                return Err(
                    "usage: bench serve plain | bench serve proxy|api URL KEY | bench serve bare URL"
                        .into(),
                );
            }
        };
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

/// The first key of the project at `url`, from its JWKS.
async fn project_key(url: &str) -> Result<ParsedPublicKey, String> {
    let jwks: serde_json::Value = reqwest::get(format!("{url}/auth/v1/.well-known/jwks.json"))
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    es256_key(&jwks["keys"][0])
}
