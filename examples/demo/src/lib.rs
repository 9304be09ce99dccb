//! The supabase-ssr demo: a server-rendered axum app whose Supabase Auth session lives
//! in `@supabase/ssr`-compatible cookies, refreshed and verified by `SupabaseLayer`.
//!
//! `cargo run -p demo` starts it on `127.0.0.1:3000` with an embedded
//! `supabase-auth-emulator` and a throwaway PostgreSQL, which holds the notes, the
//! emulator's users (`auth.users`) and their profiles; see the README.
//! Tests start it in-process:
//!
//! ```no_run
//! # async fn example() -> Result<(), demo::DemoError> {
//! use std::time::Duration;
//!
//! let app = demo::run(
//!     demo::DemoConfig::emulator()
//!         .port(0)
//!         .jwt_exp(Duration::from_secs(5))
//!         .refresh_margin(Duration::from_secs(1)),
//! )
//! .await?;
//! println!("app at {}, inbox at {:?}", app.url(), app.inbox_url());
//! app.shutdown().await;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod assets;
mod config;
mod csrf;
mod database;
mod notes;
mod profiles;
mod redirect;
mod routes;
mod state;
mod views;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use supabase_auth_emulator::{Emulator, EmulatorConfig, EmulatorError};
use supabase_ssr::{AuthError, SupabaseAuth};
use supabase_ssr_postgres::RlsPool;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{Backend, DEMO_EMAIL, DEMO_PASSWORD, Database, DemoConfig};

use database::NotesDb;
use state::{AppState, RefreshLog};

/// Why the demo could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// The address is taken or not allowed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The embedded Auth emulator did not start (for one, on a database whose `auth`
    /// schema another Auth server made), or the demo user could not be made.
    #[error("the embedded Auth emulator failed: {0}")]
    Emulator(#[from] EmulatorError),
    /// The Supabase URL or key is unusable.
    #[error("invalid Supabase settings: {0}")]
    Auth(#[from] AuthError),
    /// The notes database (`DATABASE_URL`, or the throwaway server once started) could
    /// not be reached or set up.
    #[error("the notes database {url}: {action} failed: {source}")]
    Database {
        /// The database URL, without its password.
        url: String,
        /// What was being done.
        action: &'static str,
        /// Why it failed.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// A running demo. Dropping it (or [`App::shutdown`]) stops the server and removes a
/// throwaway database; the embedded emulator stops with the last handle to it.
pub struct App {
    addr: SocketAddr,
    url: String,
    supabase_url: String,
    cookie_name: String,
    emulator: Option<Emulator>,
    demo_user: Option<(String, String)>,
    db: Option<NotesDb>,
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
    /// The bound address (the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The app's public origin, e.g. `http://127.0.0.1:3000`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The Supabase project URL in use (the emulator's, or the real project's).
    pub fn supabase_url(&self) -> &str {
        &self.supabase_url
    }

    /// The session cookie's name (`sb-<project ref>-auth-token`), also the prefix of
    /// its chunks.
    pub fn session_cookie_name(&self) -> &str {
        &self.cookie_name
    }

    /// The embedded emulator, unless a real project is used.
    pub fn emulator(&self) -> Option<&Emulator> {
        self.emulator.as_ref()
    }

    /// The emulator's inbox page.
    pub fn inbox_url(&self) -> Option<String> {
        self.emulator.as_ref().map(Emulator::inbox_url)
    }

    /// The seeded demo user's email and password (emulator mode).
    pub fn demo_user(&self) -> Option<(&str, &str)> {
        self.demo_user
            .as_ref()
            .map(|(e, p)| (e.as_str(), p.as_str()))
    }

    /// Why `/browser-client` cannot work: the committed browser bundle was missing when
    /// the demo was built. `None` in a normal build.
    pub fn browser_bundle_error(&self) -> Option<&str> {
        assets::bundle_missing()
    }

    /// The notes database in one line: `throwaway PostgreSQL 15.14 (removed on exit)`,
    /// the `DATABASE_URL` without its password, or why there is none.
    pub fn database_summary(&self) -> &str {
        self.db.as_ref().map_or("", |db| db.summary.as_str())
    }

    /// The notes database's connection URL (with its password), when there is one.
    pub fn database_url(&self) -> Option<&str> {
        self.db.as_ref()?.url.as_deref()
    }

    /// The throwaway server's directory (data and socket), removed by
    /// [`App::shutdown`] or drop.
    pub fn database_dir(&self) -> Option<PathBuf> {
        self.db.as_ref()?.throwaway_dir()
    }

    /// Stops accepting connections, lets requests in flight finish, then stops the
    /// embedded emulator and closes the database (removing a throwaway server): in that
    /// order, as the emulator may keep its users in that database.
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
        if let Some(db) = self.db.take() {
            db.close().await;
        }
    }
}

/// Binds, sets up the database, starts the emulator (unless a real project is
/// configured) with its users in that database when there is one, adds the profiles
/// table and its trigger there, seeds the demo user, and serves in a background task.
pub async fn run(config: DemoConfig) -> Result<App, DemoError> {
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|source| DemoError::Bind {
            addr: config.addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| DemoError::Bind {
        addr: config.addr,
        source,
    })?;
    let url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let port = addr.port();
    let alias_hosts = vec![format!("127.0.0.1:{port}"), format!("localhost:{port}")];

    let db = database::open(&config.database).await?;
    match &db.pool {
        Some(_) => tracing::info!(database = %db.summary, "notes database ready"),
        None => tracing::warn!("{}", db.summary),
    }

    let (emulator, supabase_url, supabase_key, lifetime, profiles) = match &config.backend {
        Backend::Emulator {
            jwt_exp,
            autoconfirm,
        } => {
            let mut allow: Vec<String> = alias_hosts
                .iter()
                .map(|h| format!("http://{h}/**"))
                .collect();
            allow.push(format!("{url}/**"));
            // With a database, the emulator keeps its users in its `auth` schema (made at
            // start), as GoTrue does on Supabase; without one, in memory.
            let emulator = EmulatorConfig::default()
                .jwt_exp(*jwt_exp)
                .autoconfirm(*autoconfirm)
                .site_url(url.clone())
                .redirect_allow_list(allow)
                .database_url(db.url.clone())
                .port(0)
                .start()
                .await?;
            // Before the first user, so the trigger makes the demo user's profile too.
            let profiles = db.create_profiles().await?;
            // A database used before has the demo user already.
            if !db.has_user(DEMO_EMAIL).await? {
                emulator.create_user(DEMO_EMAIL, DEMO_PASSWORD).await?;
            }
            let (u, k) = (emulator.url(), emulator.publishable_key().to_owned());
            (Some(emulator), u, k, Some(*jwt_exp), profiles)
        }
        Backend::Project { url, key } => {
            let profiles = db.find_profiles().await?;
            (None, url.clone(), key.clone(), None, profiles)
        }
    };
    if let Err(why) = &profiles {
        tracing::info!("{why}");
    }

    let mut builder = SupabaseAuth::builder(&supabase_url, &supabase_key);
    let refresh_margin = config.refresh_margin.unwrap_or(Duration::from_secs(90));
    if let Some(margin) = config.refresh_margin {
        builder = builder.refresh_margin(margin);
    }
    let auth = builder.build()?;
    let cookie_name = auth.storage_key().to_owned();

    if let Some(why) = assets::bundle_missing() {
        tracing::warn!("browser client unavailable: {why}");
    }

    let demo_user = emulator
        .as_ref()
        .map(|_| (DEMO_EMAIL.to_owned(), DEMO_PASSWORD.to_owned()));
    let shared = Arc::new(AppState {
        auth,
        supabase_url: supabase_url.clone(),
        supabase_key,
        inbox_url: emulator.as_ref().map(Emulator::inbox_url),
        demo_user: demo_user.clone(),
        public_url: url.clone(),
        alias_hosts,
        oauth_providers: config.oauth_providers.clone(),
        refresh_margin,
        access_token_lifetime: lifetime,
        refresh_log: RefreshLog::default(),
        notes_db: db.pool.clone().map(RlsPool::new),
        notes_unavailable: db.summary.clone(),
        profiles,
    });
    let router = routes::router(shared);
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                // A dropped sender (the App dropped) also means stop.
                let _ = rx.await;
            })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "the demo server stopped with an error");
        }
    });
    tracing::info!(%url, "demo listening");
    Ok(App {
        addr,
        url,
        supabase_url,
        cookie_name,
        emulator,
        demo_user,
        db: Some(db),
        shutdown: Some(tx),
        task: Some(task),
    })
}

/// Seconds since the Unix epoch.
pub(crate) fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}
