//! `cargo run -p leptos-app`: the app on `127.0.0.1:3000` (or `PORT`), with the embedded
//! Auth emulator unless `SUPABASE_URL` and `SUPABASE_KEY` name a real project.

use std::process::ExitCode;

use leptos_app::{Backend, Config};

const USAGE: &str = "\
Usage: cargo run -p leptos-app

Environment:
  PORT          port on 127.0.0.1 (default 3000)
  SUPABASE_URL  a real project (https://<ref>.supabase.co) instead of the embedded emulator
  SUPABASE_KEY  its publishable (sb_publishable_...) or anon key
  RUST_LOG      log filter (default info for the app and the emulator)";

fn config_from_env() -> Result<Config, String> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let mut config = match (env("SUPABASE_URL"), env("SUPABASE_KEY")) {
        (Some(url), Some(key)) => Config::project(url, key),
        (None, None) => Config::emulator(),
        _ => return Err("set both SUPABASE_URL and SUPABASE_KEY, or neither".into()),
    };
    if let Some(port) = env("PORT") {
        let port = port
            .trim()
            .parse()
            .map_err(|_| format!("invalid PORT {port:?}\n\n{USAGE}"))?;
        config = config.port(port);
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(
                    "warn,leptos_app=info,supabase_auth_emulator=info",
                )
            }),
        )
        .init();
    if let Some(arg) = std::env::args().nth(1) {
        if arg == "--help" || arg == "-h" {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        eprintln!("unknown argument {arg:?}\n\n{USAGE}");
        return ExitCode::from(2);
    }
    let config = match config_from_env() {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let jwt_exp = match &config.backend {
        Backend::Emulator { jwt_exp } => Some(*jwt_exp),
        _ => None,
    };
    let app = match leptos_app::run(config).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("leptos-app: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!();
    println!("  supabase-ssr with Leptos (server-rendered, no WebAssembly)");
    println!("  App:        {}", app.url());
    match (app.emulator(), jwt_exp) {
        (Some(emulator), Some(exp)) => println!(
            "  Auth:       {} (embedded supabase-auth-emulator, in memory; access tokens live {} s)",
            emulator.url(),
            exp.as_secs()
        ),
        _ => println!(
            "  Auth:       {} (your Supabase project)",
            app.supabase_url()
        ),
    }
    if let Some((email, password)) = app.demo_user() {
        println!("  Demo user:  {email} / {password}");
    }
    println!();
    println!("  Open {}/protected and press Ctrl-C to stop.", app.url());
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
        eprintln!("leptos-app: cannot wait for Ctrl-C: {e}");
    }
}
