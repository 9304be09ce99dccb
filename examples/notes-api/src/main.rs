//! `cargo run -p notes-api`: the API on 127.0.0.1:3001 (or `PORT`), over the embedded
//! Auth emulator (or `SUPABASE_URL`) and a throwaway PostgreSQL (or `DATABASE_URL`),
//! where the emulator keeps its users.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use std::str::FromStr as _;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use supabase_auth_emulator::{Emulator, EmulatorConfig};
use supabase_ssr::SupabaseAuth;
use throwaway_postgres::ThrowawayPostgres;

const USAGE: &str = "\
Usage: cargo run -p notes-api

Environment:
  PORT                      port on 127.0.0.1 (default 3001; 0 picks a free one)
  SUPABASE_URL              a Supabase project instead of the embedded Auth emulator
  SUPABASE_PUBLISHABLE_KEY  its publishable key (required with SUPABASE_URL)
  SUPABASE_SECRET_KEY       its secret key (optional; accepted as the `default` secret key)
  DATABASE_URL              a PostgreSQL to use instead of a throwaway one (the embedded
                            emulator keeps its users there, in schema auth)
  RUST_LOG                  log filter (default warn)";

/// Where the settings come from.
struct Settings {
    port: u16,
    supabase: Option<(String, String)>,
    secret_key: Option<String>,
    database_url: Option<String>,
}

fn settings() -> Result<Settings, String> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let port = match env("PORT") {
        Some(port) => port
            .trim()
            .parse()
            .map_err(|_| format!("invalid PORT {port:?}"))?,
        None => 3001,
    };
    let supabase = match (env("SUPABASE_URL"), env("SUPABASE_PUBLISHABLE_KEY")) {
        (Some(url), Some(key)) => Some((url, key)),
        (None, None) => None,
        (Some(_), None) => return Err("SUPABASE_URL needs SUPABASE_PUBLISHABLE_KEY".into()),
        (None, Some(_)) => return Err("SUPABASE_PUBLISHABLE_KEY needs SUPABASE_URL".into()),
    };
    Ok(Settings {
        port,
        supabase,
        secret_key: env("SUPABASE_SECRET_KEY"),
        database_url: env("DATABASE_URL"),
    })
}

/// The database: a throwaway cluster of our own, or the one `DATABASE_URL` names.
enum Database {
    Throwaway(ThrowawayPostgres),
    External(String),
}

impl Database {
    fn url(&self) -> &str {
        match self {
            Self::Throwaway(server) => server.url(),
            Self::External(url) => url,
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Throwaway(server) => {
                format!("{} (throwaway PostgreSQL, removed on exit)", server.url())
            }
            // Where it is, read by sqlx: never the password, wherever the URL holds it.
            Self::External(url) => match PgConnectOptions::from_str(url) {
                Ok(options) => format!(
                    "DATABASE_URL ({}@{}:{}/{})",
                    options.get_username(),
                    options.get_host(),
                    options.get_port(),
                    options.get_database().unwrap_or_default()
                ),
                Err(_) => "DATABASE_URL (unreadable)".to_owned(),
            },
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    if std::env::args().skip(1).any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let settings = match settings() {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("notes-api: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("notes-api: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(settings: Settings) -> Result<(), String> {
    // The database first: without one there is nothing to serve.
    let database = match settings.database_url {
        Some(url) => Database::External(url),
        None => {
            let started = tokio::task::spawn_blocking(ThrowawayPostgres::start)
                .await
                .map_err(|e| format!("cannot start PostgreSQL: {e}"))?;
            match started {
                Ok(server) => Database::Throwaway(server),
                Err(e) if e.is_not_installed() => {
                    return Err(format!(
                        "PostgreSQL is not installed ({e}).\n\
                         Install it (Debian/Ubuntu: apt-get install postgresql), or point \
                         DATABASE_URL at a PostgreSQL you have."
                    ));
                }
                Err(e) => return Err(format!("cannot start a throwaway PostgreSQL: {e}")),
            }
        }
    };
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(Duration::from_secs(5))
        // sqlx sends no cancel request for a query whose request went away: the
        // connection stays busy until the server is done, so bound how long that is.
        .after_connect(|conn, _| {
            Box::pin(async move {
                sqlx::raw_sql("set statement_timeout = '5s'")
                    .execute(conn)
                    .await
                    .map(drop)
            })
        })
        .connect(database.url())
        .await
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    notes_api::prepare_database(&pool)
        .await
        .map_err(|e| format!("cannot prepare the database: {e}"))?;

    let (emulator, url, publishable, secret) = match settings.supabase {
        Some((url, key)) => (None, url, key, settings.secret_key),
        None => {
            // Its users in this database's `auth` schema, as on Supabase, so the
            // profiles table can reference them and a trigger fill it.
            let emulator = EmulatorConfig::default()
                .database_url(Some(database.url()))
                .port(0)
                .start()
                .await
                .map_err(|e| format!("cannot start the Auth emulator: {e}"))?;
            notes_api::create_profiles(&pool)
                .await
                .map_err(|e| format!("cannot create the profiles table: {e}"))?;
            let (url, key) = (emulator.url(), emulator.publishable_key().to_owned());
            let secret = settings
                .secret_key
                .unwrap_or_else(|| emulator.secret_key().to_owned());
            (Some(emulator), url, key, Some(secret))
        }
    };
    let mut builder = SupabaseAuth::builder(&url, &publishable);
    if let Some(secret) = &secret {
        builder = builder.secret_key("default", secret);
    }
    let auth = builder
        .build()
        .map_err(|e| format!("invalid Supabase settings: {e}"))?;

    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, settings.port));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    print_banner(
        addr,
        emulator.as_ref(),
        &url,
        &publishable,
        secret.as_deref(),
        &database,
    );

    let app = notes_api::router(auth, pool.clone());
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(stop_signal())
        .await;
    pool.close().await;
    if let Some(emulator) = emulator {
        emulator.shutdown().await;
    }
    if let Database::Throwaway(server) = database {
        // Blocking (waits for PostgreSQL to exit), and the last thing we do.
        let _ = tokio::task::spawn_blocking(move || server.stop()).await;
    }
    eprintln!("notes-api: stopped");
    served.map_err(|e| format!("the server failed: {e}"))
}

fn print_banner(
    addr: SocketAddr,
    emulator: Option<&Emulator>,
    url: &str,
    publishable: &str,
    secret: Option<&str>,
    database: &Database,
) {
    let auth = match emulator {
        Some(_) => format!("{url} (embedded supabase-auth-emulator)"),
        None => format!("{url} (your Supabase project)"),
    };
    // The emulator's keys are the local stack's well-known ones; a real project's
    // secret key is not printed.
    let secret = match (emulator, secret) {
        (Some(_), Some(key)) => key.to_owned(),
        (None, Some(_)) => "(from SUPABASE_SECRET_KEY, not shown)".to_owned(),
        (_, None) => "(none)".to_owned(),
    };
    println!();
    println!("  notes-api");
    println!("  App:              http://{addr}");
    println!("  Auth:             {auth}");
    if let Some(emulator) = emulator {
        println!("  Users:            {}", emulator.database());
    }
    println!("  Publishable key:  {publishable}");
    println!("  Secret key:       {secret}");
    println!("  Database:         {}", database.describe());
    println!();
}

/// Ctrl-C, or SIGTERM on Unix.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
