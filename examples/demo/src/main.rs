//! `cargo run -p demo [-- --port N]`: the demo on `127.0.0.1:3000` (or `PORT`), with
//! the embedded Auth emulator unless `SUPABASE_URL` and `SUPABASE_KEY` name a real
//! project, and the notes on a throwaway PostgreSQL unless `DATABASE_URL` names one.

use std::process::ExitCode;

use demo::{Backend, Database, DemoConfig};

const USAGE: &str = "\
Usage: cargo run -p demo [-- --port N]

Environment:
  PORT                   port on 127.0.0.1 (default 3000; --port wins)
  SUPABASE_URL           a real project (https://<ref>.supabase.co) instead of the emulator
  SUPABASE_KEY           its publishable (sb_publishable_...) or anon key
  PUBLIC_URL             the app's origin in email and OAuth redirects (default http://127.0.0.1:PORT)
  DEMO_OAUTH_PROVIDERS   OAuth buttons for a real project, e.g. github,google
  DATABASE_URL           PostgreSQL for the notes (postgres://user:password@host:5432/db); the
                         Supabase roles, auth.uid() and the notes table are created if missing.
                         Default: a throwaway server when PostgreSQL is installed, removed on exit
  RUST_LOG               log filter (default info for the demo and the emulator)";

fn parse_port(value: &str) -> Result<u16, String> {
    value
        .parse()
        .map_err(|_| format!("invalid port {value:?}\n\n{USAGE}"))
}

fn config_from_env_and_args() -> Result<DemoConfig, String> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let mut config = match (env("SUPABASE_URL"), env("SUPABASE_KEY")) {
        (Some(url), Some(key)) => {
            let providers = env("DEMO_OAUTH_PROVIDERS")
                .map(|p| {
                    p.split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            DemoConfig::project(url, key).oauth_providers(providers)
        }
        (None, None) => DemoConfig::emulator(),
        _ => return Err("set both SUPABASE_URL and SUPABASE_KEY, or neither".into()),
    };
    if let Some(port) = env("PORT") {
        config = config.port(parse_port(&port)?);
    }
    if let Some(url) = env("PUBLIC_URL") {
        config = config.public_url(url);
    }
    if let Some(url) = env("DATABASE_URL") {
        config = config.database(Database::Url(url));
    }
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" | "-p" => {
                let value = args
                    .next()
                    .ok_or_else(|| format!("--port needs a value\n\n{USAGE}"))?;
                config = config.port(parse_port(&value)?);
            }
            other => match other.strip_prefix("--port=") {
                Some(value) => config = config.port(parse_port(value)?),
                None => return Err(format!("unknown argument {other:?}\n\n{USAGE}")),
            },
        }
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("warn,demo=info,supabase_auth_emulator=info")
            }),
        )
        .init();
    if std::env::args().skip(1).any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let config = match config_from_env_and_args() {
        Ok(c) => c,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let jwt_exp = match &config.backend {
        Backend::Emulator { jwt_exp, .. } => Some(*jwt_exp),
        _ => None,
    };
    let app = match demo::run(config).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("demo: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!();
    println!("  supabase-ssr demo");
    println!("  App:        {}", app.url());
    match (app.emulator(), jwt_exp) {
        (Some(emulator), Some(exp)) => {
            println!(
                "  Auth:       {} (embedded supabase-auth-emulator, in memory; access tokens live {} s)",
                emulator.url(),
                exp.as_secs()
            );
            println!("  Inbox:      {}", emulator.inbox_url());
        }
        _ => println!(
            "  Auth:       {} (your Supabase project)",
            app.supabase_url()
        ),
    }
    if let Some((email, password)) = app.demo_user() {
        println!("  Demo user:  {email} / {password}");
    }
    println!("  Database:   {}", app.database_summary());
    if let Some(e) = app.browser_bundle_error() {
        println!("  Note:       /browser-client will not work: {e}");
    }
    println!();
    println!("  Open {} and press Ctrl-C to stop.", app.url());
    println!();
    stop_signal().await;
    app.shutdown().await;
    ExitCode::SUCCESS
}

/// Ctrl-C, or SIGTERM on Unix (process managers, `kill`).
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
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("demo: cannot wait for Ctrl-C: {e}");
    }
}
