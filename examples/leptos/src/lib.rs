//! Supabase Auth in a server-rendered [Leptos](https://leptos.dev) app, through
//! `supabase-ssr-axum`.
//!
//! `cargo run -p leptos-app` starts it on `127.0.0.1:3000` with an embedded
//! `supabase-auth-emulator`; see the README. Leptos renders every page on the server and
//! the forms post to server functions as plain HTML forms: there is no WebAssembly and
//! no hydration. `SupabaseLayer` wraps the whole router, server-function routes
//! included, so every page load and every server-function call refreshes an expiring
//! session and every cookie a server function writes reaches the browser.
//!
//! Tests start it in-process:
//!
//! ```no_run
//! # async fn example() -> Result<(), leptos_app::StartError> {
//! let app = leptos_app::run(leptos_app::Config::emulator().port(0)).await?;
//! println!("app at {}", app.url());
//! app.shutdown().await;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod auth;
mod config;
mod pages;
mod same_origin;

use std::net::SocketAddr;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Html;
use leptos::config::LeptosOptions;
use leptos_axum::LeptosRoutes;
use supabase_auth_emulator::{Emulator, EmulatorConfig, EmulatorError};
use supabase_ssr::{AuthError, SupabaseAuth};
use supabase_ssr_axum::SupabaseLayer;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{Backend, Config, DEMO_EMAIL, DEMO_PASSWORD, SharedClock};

/// The README's example, compiled as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// Why the app could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The address is taken or not allowed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The embedded Auth emulator did not start, or the demo user could not be made.
    #[error("the embedded Auth emulator failed: {0}")]
    Emulator(#[from] EmulatorError),
    /// The Supabase URL or key is unusable.
    #[error("invalid Supabase settings: {0}")]
    Auth(#[from] AuthError),
}

/// A running app. [`App::shutdown`] (or dropping it) stops the server; the embedded
/// emulator stops with the last handle to it.
pub struct App {
    url: String,
    supabase_url: String,
    cookie_name: String,
    emulator: Option<Emulator>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("url", &self.url)
            .field("supabase_url", &self.supabase_url)
            .finish_non_exhaustive()
    }
}

impl App {
    /// The app's origin, e.g. `http://127.0.0.1:3000`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The Supabase project URL in use (the emulator's, or the real project's).
    pub fn supabase_url(&self) -> &str {
        &self.supabase_url
    }

    /// The session cookie's name (`sb-<project ref>-auth-token`), also the prefix of its
    /// chunks.
    pub fn session_cookie_name(&self) -> &str {
        &self.cookie_name
    }

    /// The embedded emulator, unless a real project is used.
    pub fn emulator(&self) -> Option<&Emulator> {
        self.emulator.as_ref()
    }

    /// The seeded user's email and password, when the emulator is embedded.
    pub fn demo_user(&self) -> Option<(&'static str, &'static str)> {
        self.emulator.as_ref().map(|_| (DEMO_EMAIL, DEMO_PASSWORD))
    }

    /// Stops accepting connections, lets requests in flight finish, then stops the
    /// embedded emulator.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        if let Some(emulator) = self.emulator.take() {
            emulator.shutdown().await;
        }
    }
}

/// Binds, starts the emulator (unless a real project is configured), seeds the demo
/// user, and serves in a background task.
pub async fn run(config: Config) -> Result<App, StartError> {
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.addr,
        source,
    })?;
    let url = format!("http://{addr}");

    let (emulator, supabase_url, supabase_key) = match &config.backend {
        Backend::Emulator { jwt_exp } => {
            let emulator = EmulatorConfig::default()
                .jwt_exp(*jwt_exp)
                .site_url(url.clone())
                .port(0)
                .start()
                .await?;
            emulator.create_user(DEMO_EMAIL, DEMO_PASSWORD).await?;
            let (u, k) = (emulator.url(), emulator.publishable_key().to_owned());
            (Some(emulator), u, k)
        }
        Backend::Project { url, key } => (None, url.clone(), key.clone()),
    };

    let mut builder = SupabaseAuth::builder(&supabase_url, &supabase_key);
    if let Some(margin) = config.refresh_margin {
        builder = builder.refresh_margin(margin);
    }
    if let Some(clock) = config.clock.clone() {
        builder = builder.clock(clock);
    }
    let auth = builder.build()?;
    let cookie_name = auth.storage_key().to_owned();

    let (tx, rx) = oneshot::channel::<()>();
    let router = router(auth, addr);
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                // A dropped sender (the App dropped) also means stop.
                let _ = rx.await;
            })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "the server stopped with an error");
        }
    });
    tracing::info!(%url, "leptos-app listening");
    Ok(App {
        url,
        supabase_url,
        cookie_name,
        emulator,
        shutdown: Some(tx),
        task: Some(task),
    })
}

/// The Leptos pages and server functions, behind the same-origin check for posts, all
/// behind `SupabaseLayer`.
fn router(auth: SupabaseAuth, addr: SocketAddr) -> Router {
    let options = LeptosOptions::builder()
        .output_name(env!("CARGO_CRATE_NAME"))
        .site_addr(addr)
        .build();
    // Also the server functions' routes (`/api/...`), registered by `leptos_routes`.
    let routes = leptos_axum::generate_route_list(pages::shell);
    Router::new()
        .leptos_routes(&options, routes, pages::shell)
        .fallback(not_found)
        .layer(axum::middleware::from_fn(same_origin::same_origin_posts))
        // Outermost, so it runs on every page and every server function.
        .layer(SupabaseLayer::new(auth))
        .with_state(options)
}

async fn not_found() -> (StatusCode, Html<&'static str>) {
    (
        StatusCode::NOT_FOUND,
        Html(
            "<!DOCTYPE html><title>Not found</title><p>There is no page here. <a href=\"/\">Home</a></p>",
        ),
    )
}
