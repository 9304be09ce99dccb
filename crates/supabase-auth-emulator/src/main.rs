//! `supabase-auth-emulator`: run the local Supabase Auth emulator, or manage its keys.

use std::process::ExitCode;
use std::time::Duration;

use supabase_auth_emulator::{Emulator, EmulatorConfig, SigningAlg};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const USAGE: &str = "\
supabase-auth-emulator: a local Supabase Auth (GoTrue) server on SQLite, no Docker.

USAGE:
    supabase-auth-emulator [OPTIONS]
    supabase-auth-emulator keys list|rotate [--alg ALG]|drop KID [--url URL]

OPTIONS:
    --port N                   port on 127.0.0.1 (default 54321; 0 picks a free one)
    --db PATH                  SQLite file to keep users and keys in (default: in memory)
    --jwt-exp SECONDS          access token lifetime, e.g. 3600, 90s, 5m (default 3600)
    --signing-alg ALG          ES256 (default), RS256, EdDSA or HS256
    --site-url URL             default redirect target (default http://127.0.0.1:3000)
    --redirect-allow-list L    comma-separated redirect URL globs
    --autoconfirm[=BOOL]       confirm email signups at once (default true)
    --no-autoconfirm           send confirmation emails instead
    --reuse-interval SECONDS   refresh token reuse interval (default 10)
    --bcrypt-cost N            bcrypt cost (default 10)
    --no-api-key-check         accept requests without a known apikey (like `supabase start`)
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

fn parse_config(args: Vec<String>) -> Result<(EmulatorConfig, String), String> {
    let mut db_label = "in memory (use --db FILE to keep data)".to_string();
    let mut cfg = EmulatorConfig::default().port(54321).bcrypt_cost(10);
    let mut a = Args {
        items: args,
        pos: 0,
    };
    while let Some((flag, inline)) = a.next_flag() {
        match flag.as_str() {
            "--port" => {
                let v = a.value(&flag, inline)?;
                cfg = cfg.port(v.parse().map_err(|_| format!("invalid port: {v}"))?);
            }
            "--db" => {
                let path = a.value(&flag, inline)?;
                db_label = path.clone();
                cfg = cfg.db_path(Some(path));
            }
            "--jwt-exp" => {
                let v = a.value(&flag, inline)?;
                cfg = cfg
                    .jwt_exp(parse_duration(&v).ok_or_else(|| format!("invalid --jwt-exp: {v}"))?);
            }
            "--signing-alg" => {
                let v = a.value(&flag, inline)?;
                cfg = cfg.signing_alg(
                    SigningAlg::parse(&v).ok_or_else(|| format!("unknown algorithm: {v}"))?,
                );
            }
            "--site-url" => cfg = cfg.site_url(a.value(&flag, inline)?),
            "--redirect-allow-list" => {
                let v = a.value(&flag, inline)?;
                cfg = cfg.redirect_allow_list(
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect(),
                );
            }
            "--autoconfirm" => {
                let on = match inline {
                    Some(v) => {
                        parse_bool(&v).ok_or_else(|| format!("invalid --autoconfirm: {v}"))?
                    }
                    None => true,
                };
                cfg = cfg.autoconfirm(on);
            }
            "--no-autoconfirm" => cfg = cfg.autoconfirm(false),
            "--reuse-interval" => {
                let v = a.value(&flag, inline)?;
                cfg = cfg.refresh_token_reuse_interval(
                    parse_duration(&v).ok_or_else(|| format!("invalid --reuse-interval: {v}"))?,
                );
            }
            "--bcrypt-cost" => {
                let v = a.value(&flag, inline)?;
                cfg = cfg.bcrypt_cost(
                    v.parse()
                        .map_err(|_| format!("invalid --bcrypt-cost: {v}"))?,
                );
            }
            "--no-api-key-check" => cfg = cfg.require_api_key(false),
            other => return Err(format!("unknown option: {other}")),
        }
    }
    Ok((cfg, db_label))
}

fn banner(emu: &Emulator, db: &str) -> String {
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
         \x20       Database: {db}\n\
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
    let (cfg, db_label) = parse_config(args)?;
    let emu = cfg.start().await.map_err(|e| e.to_string())?;
    println!("{}", banner(&emu, &db_label));
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
