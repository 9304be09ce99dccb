//! `cargo run -p demo [-- --port N]`: the demo on `127.0.0.1:3000` (or `PORT`), with
//! the embedded Auth emulator unless `SUPABASE_URL` and `SUPABASE_KEY` name a real
//! project, and the notes (and the emulator's users) on a throwaway PostgreSQL unless
//! `DATABASE_URL` names one (or is `off`).

use std::process::ExitCode;
use std::time::Duration;

use demo::{Backend, Database, DemoConfig};

const USAGE: &str = "\
Usage: cargo run -p demo [-- --port N]

Environment:
  PORT                     port on 127.0.0.1 (default 3000; --port wins)
  SUPABASE_URL             a real project (https://<ref>.supabase.co) instead of the emulator
  SUPABASE_KEY             its publishable (sb_publishable_...) or anon key
  PUBLIC_URL               the app's origin in email and OAuth redirects (default http://127.0.0.1:PORT)
  DEMO_OAUTH_PROVIDERS     OAuth buttons for a real project, e.g. github,google
  DEMO_REFRESH_MARGIN_SECS refresh a session whose access token expires within this many
                           seconds (default 20 with the emulator, 90 with a real project)
  DEMO_JWT_EXP_SECS        access-token lifetime of the embedded emulator, 1 to 604800 s
                           (default 60; a real project's is set in its dashboard)
  DATABASE_URL             PostgreSQL for the notes (postgres://user:password@host:5432/db); the
                           Supabase roles, auth.uid() and the notes table are created if missing.
                           The embedded emulator keeps its users there (auth.users, with a
                           profiles table filled by a trigger). `off`: no notes or profiles,
                           users in memory. Default: a throwaway server when PostgreSQL is
                           installed, removed on exit
  RUST_LOG                 log filter (default info for the demo and the emulator)";

/// The largest number of seconds the `DEMO_*_SECS` settings take: a week, the longest
/// access-token lifetime Supabase allows.
const MAX_SECS: u64 = 604_800;

fn parse_port(value: &str) -> Result<u16, String> {
    value
        .parse()
        .map_err(|_| format!("invalid port {value:?}\n\n{USAGE}"))
}

/// Whole seconds from `min` to [`MAX_SECS`], for the setting `name`.
fn parse_secs(name: &str, value: &str, min: u64) -> Result<Duration, String> {
    match value.trim().parse::<u64>() {
        Ok(secs) if (min..=MAX_SECS).contains(&secs) => Ok(Duration::from_secs(secs)),
        _ => Err(format!(
            "invalid {name} {value:?}: whole seconds from {min} to {MAX_SECS}\n\n{USAGE}"
        )),
    }
}

/// The configuration from the environment (`env` looks a variable up) and the
/// command-line arguments after the program name.
fn config_from(
    env: impl Fn(&str) -> Option<String>,
    mut args: impl Iterator<Item = String>,
) -> Result<DemoConfig, String> {
    let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let mut config = match (env("SUPABASE_URL"), env("SUPABASE_KEY")) {
        (Some(url), Some(key)) => {
            if env("DEMO_JWT_EXP_SECS").is_some() {
                return Err(
                    "DEMO_JWT_EXP_SECS sets the embedded emulator's token lifetime; \
                     a real project's is set in its dashboard (JWT expiry)"
                        .into(),
                );
            }
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
    if let Some(margin) = env("DEMO_REFRESH_MARGIN_SECS") {
        config = config.refresh_margin(parse_secs("DEMO_REFRESH_MARGIN_SECS", &margin, 0)?);
    }
    if let Some(exp) = env("DEMO_JWT_EXP_SECS") {
        config = config.jwt_exp(parse_secs("DEMO_JWT_EXP_SECS", &exp, 1)?);
    }
    if let Some(url) = env("DATABASE_URL") {
        config = config.database(match url.trim() {
            "off" => Database::Off,
            _ => Database::Url(url),
        });
    }
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
    let config = match config_from(|name| std::env::var(name).ok(), std::env::args().skip(1)) {
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
                "  Auth:       {} (embedded supabase-auth-emulator; access tokens live {} s)",
                emulator.url(),
                exp.as_secs()
            );
            println!("  Users:      {}", emulator.database());
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The configuration for these variables and no arguments.
    fn config(vars: &[(&str, &str)]) -> Result<DemoConfig, String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        config_from(
            move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            std::iter::empty(),
        )
    }

    fn jwt_exp(config: &DemoConfig) -> Option<Duration> {
        match config.backend {
            Backend::Emulator { jwt_exp, .. } => Some(jwt_exp),
            _ => None,
        }
    }

    fn error(vars: &[(&str, &str)]) -> String {
        let message = config(vars).expect_err("an invalid setting");
        message.lines().next().unwrap_or_default().to_owned()
    }

    #[test]
    fn timing_settings_come_from_the_environment() {
        let c = config(&[
            ("DEMO_REFRESH_MARGIN_SECS", "1"),
            ("DEMO_JWT_EXP_SECS", " 3 "),
        ])
        .expect("valid settings");
        assert_eq!(c.refresh_margin, Some(Duration::from_secs(1)));
        assert_eq!(jwt_exp(&c), Some(Duration::from_secs(3)));

        let c = config(&[("DEMO_REFRESH_MARGIN_SECS", "0")]).expect("a zero margin");
        assert_eq!(c.refresh_margin, Some(Duration::from_secs(0)));
        assert_eq!(jwt_exp(&c), Some(Duration::from_secs(60)));

        let c = config(&[]).expect("the defaults");
        assert_eq!(c.refresh_margin, Some(Duration::from_secs(20)));
        assert_eq!(c.database, Database::Throwaway);

        let c = config(&[
            ("SUPABASE_URL", "http://127.0.0.1:9"),
            ("SUPABASE_KEY", "sb_publishable_x"),
            ("DEMO_REFRESH_MARGIN_SECS", "5"),
        ])
        .expect("a project with a margin");
        assert_eq!(c.refresh_margin, Some(Duration::from_secs(5)));
        assert_eq!(jwt_exp(&c), None);
    }

    #[test]
    fn invalid_timing_settings_are_refused_by_name() {
        let range = "whole seconds from 1 to 604800";
        assert_eq!(
            error(&[("DEMO_JWT_EXP_SECS", "0")]),
            format!("invalid DEMO_JWT_EXP_SECS \"0\": {range}")
        );
        assert_eq!(
            error(&[("DEMO_JWT_EXP_SECS", "604801")]),
            format!("invalid DEMO_JWT_EXP_SECS \"604801\": {range}")
        );
        assert_eq!(
            error(&[("DEMO_REFRESH_MARGIN_SECS", "1.5")]),
            "invalid DEMO_REFRESH_MARGIN_SECS \"1.5\": whole seconds from 0 to 604800"
        );
        assert_eq!(
            error(&[("DEMO_REFRESH_MARGIN_SECS", "-1")]),
            "invalid DEMO_REFRESH_MARGIN_SECS \"-1\": whole seconds from 0 to 604800"
        );
        assert_eq!(
            error(&[
                ("SUPABASE_URL", "http://127.0.0.1:9"),
                ("SUPABASE_KEY", "sb_publishable_x"),
                ("DEMO_JWT_EXP_SECS", "3"),
            ]),
            "DEMO_JWT_EXP_SECS sets the embedded emulator's token lifetime; \
             a real project's is set in its dashboard (JWT expiry)"
        );
    }

    #[test]
    fn database_url_off_means_no_notes_database() {
        let c = config(&[("DATABASE_URL", "off")]).expect("off");
        assert_eq!(c.database, Database::Off);
        let url = "postgres://demo@127.0.0.1:5432/notes";
        let c = config(&[("DATABASE_URL", url)]).expect("a URL");
        assert_eq!(c.database, Database::Url(url.to_owned()));
    }
}
