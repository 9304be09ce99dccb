//! `supabase-auth-emulator`: run the local Supabase Auth emulator, or manage its keys.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use supabase_auth_emulator::{Emulator, EmulatorConfig, SigningAlg};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const USAGE: &str = "\
supabase-auth-emulator: a local Supabase Auth (GoTrue) server on SQLite, no Docker.

USAGE:
    supabase-auth-emulator [OPTIONS]
    supabase-auth-emulator keys list|rotate [--alg ALG]|drop KID [--url URL]

SETTINGS FILE:
    --config PATH              read the [auth] settings of a Supabase CLI config.toml
                               (default: ./supabase/config.toml when it exists)
    --no-config                ignore ./supabase/config.toml

    Without a file the Supabase CLI's defaults apply (those of `supabase init`):
    anonymous sign-ins, OAuth providers and TOTP MFA are off. The options below
    override the file. BOOL is true/false (also 1/0, yes/no, on/off); a bare flag
    means true.

SERVER:
    --port N                   port on 127.0.0.1 (default 54321; 0 picks a free one)
    --db PATH                  SQLite file to keep users and keys in (default: in memory)
    --database-url URL         keep them in PostgreSQL instead (postgres://...): users in
                               auth.users with GoTrue's columns, so foreign keys to
                               auth.users(id) and triggers on it work as on Supabase
    --signing-alg ALG          ES256 (default), RS256, EdDSA or HS256. EdDSA tokens fail
                               auth-js getClaims() (\"Invalid alg claim\") and hosted
                               Supabase has no EdDSA keys: not for supabase-js apps
    --bcrypt-cost N            bcrypt cost (default 10)
    --no-api-key-check         accept requests without a known apikey (like `supabase start`)

[auth]:
    --site-url URL             site_url (default http://127.0.0.1:3000)
    --redirect-allow-list L    additional_redirect_urls, comma-separated globs
                               (default https://127.0.0.1:3000)
    --jwt-exp SECONDS          jwt_expiry, e.g. 3600, 90s, 5m (default 3600)
    --reuse-interval SECONDS   refresh_token_reuse_interval (default 10)
    --disable-signup[=BOOL]    enable_signup = false: refuse new users (default false)
    --anonymous-sign-ins[=BOOL]
                               enable_anonymous_sign_ins (default false)

[auth.email]:
    --email-signup[=BOOL]      enable_signup: the email provider, sign-ins too (default true)
    --email-confirmations[=BOOL]
                               enable_confirmations: send confirmation emails (default false)
    --autoconfirm[=BOOL]       the opposite: confirm email sign-ups at once (default true)
    --no-autoconfirm           same as --email-confirmations
    --secure-email-change[=BOOL]
                               double_confirm_changes (default true)
    --secure-password-change[=BOOL]
                               secure_password_change (default false)
    --otp-length N             otp_length, 6 to 10 (default 6)
    --otp-expiry SECONDS       otp_expiry (default 3600)
    --email-max-frequency SECONDS
                               max_frequency between two emails to a user; 0 turns the
                               limit off (default 1)

[auth.sms]:
    --phone-signup[=BOOL]      enable_signup: the phone provider (default false)
    --phone-confirmations[=BOOL]
                               enable_confirmations (default false)

[auth.external.<provider>] and [auth.mfa.totp]:
    --enable-provider NAMES    turn OAuth providers on (comma-separated: github,google)
    --disable-provider NAMES   turn OAuth providers off
    --mfa-totp[=BOOL]          enroll_enabled and verify_enabled (default false)
    --mfa-totp-enroll[=BOOL]   enroll_enabled only
    --mfa-totp-verify[=BOOL]   verify_enabled only

    -h, --help                 this text

The `keys` commands call a running emulator (default http://127.0.0.1:54321)
with its secret key: `rotate` adds a signing key (the old one stays in the JWKS),
`drop KID` removes a previous key.";

fn parse_duration(s: &str) -> Option<Duration> {
    match s.parse::<u64>() {
        Ok(secs) => Some(Duration::from_secs(secs)),
        Err(_) => {
            let mut total = 0u64;
            let mut num = String::new();
            for ch in s.chars() {
                if ch.is_ascii_digit() {
                    num.push(ch);
                    continue;
                }
                let n: u64 = num.parse().ok()?;
                num.clear();
                total += n * match ch {
                    's' => 1,
                    'm' => 60,
                    'h' => 3600,
                    _ => return None,
                };
            }
            num.is_empty().then(|| Duration::from_secs(total))
        }
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Splits `--name=value` and `--name value` forms.
struct Args {
    items: Vec<String>,
    pos: usize,
}

impl Args {
    fn next_flag(&mut self) -> Option<(String, Option<String>)> {
        let item = self.items.get(self.pos)?.clone();
        self.pos += 1;
        Some(match item.split_once('=') {
            Some((k, v)) if k.starts_with("--") => (k.to_string(), Some(v.to_string())),
            _ => (item, None),
        })
    }

    fn value(&mut self, name: &str, inline: Option<String>) -> Result<String, String> {
        if let Some(v) = inline {
            return Ok(v);
        }
        let v = self
            .items
            .get(self.pos)
            .cloned()
            .ok_or_else(|| format!("{name} needs a value"))?;
        self.pos += 1;
        Ok(v)
    }
}

/// A change the command line makes, applied after the settings file.
type Edit = Box<dyn FnOnce(EmulatorConfig) -> EmulatorConfig>;

/// What the serve command runs with.
struct Options {
    cfg: EmulatorConfig,
    /// Where the data lives, for the banner.
    db_label: String,
    /// Where the settings came from, for the banner.
    settings_label: String,
}

/// `--flag` (true) or `--flag=BOOL`.
fn flag_bool(flag: &str, inline: Option<String>) -> Result<bool, String> {
    match inline {
        None => Ok(true),
        Some(v) => parse_bool(&v).ok_or_else(|| format!("invalid {flag}: {v}")),
    }
}

fn flag_duration(flag: &str, v: &str) -> Result<Duration, String> {
    parse_duration(v).ok_or_else(|| format!("invalid {flag}: {v}"))
}

fn comma_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// The command line's one change, or `None` for a flag that is not a setting.
fn edit_for(a: &mut Args, flag: &str, inline: Option<String>) -> Result<Option<Edit>, String> {
    let edit: Edit = match flag {
        "--port" => {
            let v = a.value(flag, inline)?;
            let port: u16 = v.parse().map_err(|_| format!("invalid port: {v}"))?;
            Box::new(move |c| c.port(port))
        }
        "--jwt-exp" => {
            let d = flag_duration(flag, &a.value(flag, inline)?)?;
            Box::new(move |c| c.jwt_exp(d))
        }
        "--signing-alg" => {
            let v = a.value(flag, inline)?;
            let alg = SigningAlg::parse(&v).ok_or_else(|| format!("unknown algorithm: {v}"))?;
            Box::new(move |c| c.signing_alg(alg))
        }
        "--site-url" => {
            let v = a.value(flag, inline)?;
            Box::new(move |c| c.site_url(v))
        }
        "--redirect-allow-list" => {
            let list = comma_list(&a.value(flag, inline)?);
            Box::new(move |c| c.redirect_allow_list(list))
        }
        "--autoconfirm" => {
            let on = flag_bool(flag, inline)?;
            Box::new(move |c| c.autoconfirm(on))
        }
        "--no-autoconfirm" => Box::new(|c| c.autoconfirm(false)),
        "--email-confirmations" => {
            let on = flag_bool(flag, inline)?;
            Box::new(move |c| c.autoconfirm(!on))
        }
        "--reuse-interval" => {
            let d = flag_duration(flag, &a.value(flag, inline)?)?;
            Box::new(move |c| c.refresh_token_reuse_interval(d))
        }
        "--bcrypt-cost" => {
            let v = a.value(flag, inline)?;
            let cost: u32 = v.parse().map_err(|_| format!("invalid {flag}: {v}"))?;
            Box::new(move |c| c.bcrypt_cost(cost))
        }
        "--no-api-key-check" => Box::new(|c| c.require_api_key(false)),
        "--disable-signup" => {
            let on = flag_bool(flag, inline)?;
            Box::new(move |c| c.disable_signup(on))
        }
        "--anonymous-sign-ins" => {
            let on = flag_bool(flag, inline)?;
            Box::new(move |c| c.anonymous_sign_ins(on))
        }
        "--email-signup" => {
            let on = flag_bool(flag, inline)?;
            Box::new(move |c| c.email_provider(on))
        }
        "--secure-email-change" => {
            let on = flag_bool(flag, inline)?;
            Box::new(move |c| c.secure_email_change(on))
        }
        "--secure-password-change" => {
            let on = flag_bool(flag, inline)?;
            Box::new(move |c| c.secure_password_change(on))
        }
        "--otp-length" => {
            let v = a.value(flag, inline)?;
            let n: usize = v
                .parse()
                .ok()
                .filter(|n| (6..=10).contains(n))
                .ok_or_else(|| format!("invalid {flag}: {v} (6 to 10)"))?;
            Box::new(move |c| c.otp_length(n))
        }
        "--otp-expiry" => {
            let d = flag_duration(flag, &a.value(flag, inline)?)?;
            Box::new(move |c| c.otp_exp(d))
        }
        "--email-max-frequency" => {
            let d = flag_duration(flag, &a.value(flag, inline)?)?;
            Box::new(move |c| c.email_max_frequency(d))
        }
        "--phone-signup" => {
            let on = flag_bool(flag, inline)?;
            Box::new(move |c| c.phone_provider(on))
        }
        "--phone-confirmations" => {
            let on = flag_bool(flag, inline)?;
            Box::new(move |c| c.phone_autoconfirm(!on))
        }
        "--enable-provider" | "--disable-provider" => {
            let on = flag == "--enable-provider";
            let names = comma_list(&a.value(flag, inline)?);
            Box::new(move |c| {
                names
                    .iter()
                    .fold(c, |c, name| c.external_provider(name, on))
            })
        }
        "--mfa-totp" => {
            let on = flag_bool(flag, inline)?;
            Box::new(move |c| c.mfa_totp_enroll(on).mfa_totp_verify(on))
        }
        "--mfa-totp-enroll" => {
            let on = flag_bool(flag, inline)?;
            Box::new(move |c| c.mfa_totp_enroll(on))
        }
        "--mfa-totp-verify" => {
            let on = flag_bool(flag, inline)?;
            Box::new(move |c| c.mfa_totp_verify(on))
        }
        _ => return Ok(None),
    };
    Ok(Some(edit))
}

/// The configuration from the command line: the settings file (`--config`, else
/// `<cwd>/supabase/config.toml` when it exists, else the CLI's defaults), then the
/// flags in order.
fn parse_config(args: Vec<String>, cwd: &Path) -> Result<Options, String> {
    let mut db_label = "in memory (use --db FILE to keep data)".to_string();
    let mut config_path: Option<PathBuf> = None;
    let mut no_config = false;
    let mut edits: Vec<Edit> = Vec::new();
    let mut a = Args {
        items: args,
        pos: 0,
    };
    while let Some((flag, inline)) = a.next_flag() {
        match flag.as_str() {
            "--config" => config_path = Some(cwd.join(a.value(&flag, inline)?)),
            "--no-config" => no_config = true,
            "--db" => {
                let path = a.value(&flag, inline)?;
                db_label = path.clone();
                edits.push(Box::new(move |c| c.db_path(Some(path))));
            }
            "--database-url" => {
                let url = a.value(&flag, inline)?;
                // The banner asks the emulator, which never shows the password.
                db_label = String::new();
                edits.push(Box::new(move |c| c.database_url(Some(url))));
            }
            other => match edit_for(&mut a, other, inline)? {
                Some(edit) => edits.push(edit),
                None => return Err(format!("unknown option: {other}")),
            },
        }
    }
    let default_file = cwd.join("supabase").join("config.toml");
    let file = match config_path {
        Some(path) => Some(path),
        None if !no_config && default_file.is_file() => Some(default_file),
        None => None,
    };
    let (base, settings_label) = match file {
        Some(path) => (
            EmulatorConfig::from_config_file(&path).map_err(|e| e.to_string())?,
            path.display().to_string(),
        ),
        None => (
            EmulatorConfig::supabase_cli_defaults(),
            "the Supabase CLI's defaults (no supabase/config.toml)".to_string(),
        ),
    };
    let cfg = edits
        .into_iter()
        .fold(base.port(54321).bcrypt_cost(10), |c, edit| edit(c));
    Ok(Options {
        cfg,
        db_label,
        settings_label,
    })
}

/// The OAuth providers `/settings` lists as on, or why they are unknown.
async fn enabled_providers(emu: &Emulator) -> String {
    let Ok((200, body)) = call(&emu.url(), "GET", "/auth/v1/settings", "").await else {
        return "unknown".into();
    };
    let settings: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let on: Vec<&str> = settings["external"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(name, on)| {
            on.as_bool() == Some(true)
                && !matches!(name.as_str(), "anonymous_users" | "email" | "phone")
        })
        .map(|(name, _)| name.as_str())
        .collect();
    if on.is_empty() {
        "none (--enable-provider NAME, or [auth.external.NAME] enabled = true)".into()
    } else {
        on.join(", ")
    }
}

fn banner(emu: &Emulator, settings: &str, db: &str, providers: &str) -> String {
    let signing = match emu.signing_kid() {
        Some(kid) => format!("{} (kid {kid})", emu.signing_alg()),
        None => "HS256 (shared JWT secret, no kid)".to_string(),
    };
    format!(
        "supabase-auth-emulator is running.\n\n\
         \x20        API URL: {url}\n\
         \x20       Auth URL: {auth}\n\
         \x20       JWKS URL: {jwks}\n\
         \x20          Inbox: {inbox}\n\
         \x20       Settings: {settings}\n\
         \x20       Database: {db}\n\
         \x20OAuth providers: {providers}\n\
         \x20    Signing key: {signing}\n\
         \x20Publishable key: {pk}\n\
         \x20     Secret key: {sk}\n\
         \x20       anon key: {anon}\n\
         service_role key: {service}\n\
         \x20     JWT secret: {secret}\n\n\
         Press Ctrl-C to stop.",
        url = emu.url(),
        auth = emu.auth_url(),
        jwks = emu.jwks_url(),
        inbox = emu.inbox_url(),
        pk = emu.publishable_key(),
        sk = emu.secret_key(),
        anon = emu.anon_key(),
        service = emu.service_role_key(),
        secret = emu.jwt_secret(),
    )
}

async fn serve(args: Vec<String>) -> Result<(), String> {
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    let Options {
        cfg,
        db_label,
        settings_label,
    } = parse_config(args, &cwd)?;
    let emu = cfg.start().await.map_err(|e| e.to_string())?;
    let providers = enabled_providers(&emu).await;
    let db_label = if db_label.is_empty() {
        emu.database()
    } else {
        db_label
    };
    println!("{}", banner(&emu, &settings_label, &db_label, &providers));
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| format!("cannot listen for Ctrl-C: {e}"))?;
    println!("\nShutting down...");
    emu.shutdown().await;
    println!("Stopped.");
    Ok(())
}

/// A minimal HTTP/1.1 call to a running emulator on localhost.
async fn call(base: &str, method: &str, path: &str, body: &str) -> Result<(u16, String), String> {
    let url = url::Url::parse(base).map_err(|e| format!("invalid --url: {e}"))?;
    let host = url.host_str().ok_or("--url needs a host")?.to_string();
    let port = url.port_or_known_default().ok_or("--url needs a port")?;
    let mut stream = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| format!("cannot reach {base}: {e}"))?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\napikey: {key}\r\nContent-Type: application/json\r\n\
         Content-Length: {len}\r\nConnection: close\r\n\r\n{body}",
        key = SECRET_KEY,
        len = body.len(),
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .await
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, payload) = text.split_once("\r\n\r\n").unwrap_or((text.as_str(), ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, payload.to_string()))
}

/// The emulator's (well-known, local-only) secret key.
const SECRET_KEY: &str = "sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz";

async fn keys(args: Vec<String>) -> Result<(), String> {
    let mut url = "http://127.0.0.1:54321".to_string();
    let mut alg = None;
    let mut positional = Vec::new();
    let mut a = Args {
        items: args,
        pos: 0,
    };
    while let Some((flag, inline)) = a.next_flag() {
        match flag.as_str() {
            "--url" => url = a.value(&flag, inline)?,
            "--alg" => alg = Some(a.value(&flag, inline)?),
            other if other.starts_with("--") => return Err(format!("unknown option: {other}")),
            other => positional.push(other.to_string()),
        }
    }
    let (method, path, body) = match positional.as_slice() {
        [cmd] if cmd == "list" => ("GET", "/emulator/v1/keys".to_string(), String::new()),
        [cmd] if cmd == "rotate" => {
            let body = serde_json::json!({ "alg": alg }).to_string();
            ("POST", "/emulator/v1/keys/rotate".to_string(), body)
        }
        [cmd, kid] if cmd == "drop" => {
            ("DELETE", format!("/emulator/v1/keys/{kid}"), String::new())
        }
        _ => return Err("usage: keys list | keys rotate [--alg ALG] | keys drop KID".into()),
    };
    let (status, payload) = call(&url, method, &path, &body).await?;
    println!("{payload}");
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(format!("the emulator answered HTTP {status}"))
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("supabase_auth_emulator=info")
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let result = match args.first().map(String::as_str) {
        Some("keys") => keys(args[1..].to_vec()).await,
        _ => serve(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(args: &[&str]) -> String {
        let args = args.iter().map(|s| (*s).to_string()).collect();
        match parse_config(args, Path::new("/nonexistent-dir-for-tests")) {
            Ok(opts) => panic!("accepted: {:?}", opts.cfg),
            Err(e) => e,
        }
    }

    #[test]
    fn bad_flags_are_refused_with_their_name() {
        assert_eq!(error(&["--frobnicate"]), "unknown option: --frobnicate");
        assert_eq!(
            error(&["--anonymous-sign-ins=maybe"]),
            "invalid --anonymous-sign-ins: maybe"
        );
        assert_eq!(
            error(&["--otp-length", "11"]),
            "invalid --otp-length: 11 (6 to 10)"
        );
        assert_eq!(
            error(&["--email-max-frequency", "soon"]),
            "invalid --email-max-frequency: soon"
        );
        assert_eq!(error(&["--config"]), "--config needs a value");
        assert!(
            error(&["--config", "missing.toml"])
                .starts_with("cannot read /nonexistent-dir-for-tests/missing.toml: ")
        );
    }

    #[test]
    fn without_a_file_the_cli_defaults_then_the_flags() {
        let args = [
            "--anonymous-sign-ins",
            "--otp-length=8",
            "--enable-provider",
            "github",
        ];
        let opts = match parse_config(
            args.iter().map(|s| (*s).to_string()).collect(),
            Path::new("/nonexistent-dir-for-tests"),
        ) {
            Ok(o) => o,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(
            opts.settings_label,
            "the Supabase CLI's defaults (no supabase/config.toml)"
        );
        let expected = EmulatorConfig::supabase_cli_defaults()
            .port(54321)
            .bcrypt_cost(10)
            .anonymous_sign_ins(true)
            .otp_length(8)
            .external_provider("github", true);
        assert_eq!(format!("{:?}", opts.cfg), format!("{expected:?}"));
    }

    #[test]
    fn go_style_and_plain_durations() {
        assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("0"), Some(Duration::ZERO));
        assert_eq!(parse_duration("5x"), None);
    }
}
