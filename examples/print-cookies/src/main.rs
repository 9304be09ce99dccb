//! Walks one browser through sign-in, a verified request, a refresh and sign-out on the
//! embedded Supabase Auth emulator, printing what each response would carry.
//!
//! `cargo run -p print-cookies`. To use a real project instead, set `SUPABASE_URL`,
//! `SUPABASE_KEY` (publishable or anon key), `DEMO_EMAIL` and `DEMO_PASSWORD`.

use std::error::Error;
use std::sync::Arc;

use supabase_auth_emulator::EmulatorConfig;
use supabase_ssr::cookies::CookieJar;
use supabase_ssr::{SignOutScope, SupabaseAuth};

const DEMO_EMAIL: &str = "demo@example.com";
const DEMO_PASSWORD: &str = "demo-password-1";

fn print_response(title: &str, jar: &CookieJar) {
    println!("\n== {title}");
    let lines = jar.set_cookie_headers();
    if lines.is_empty() {
        println!("(no cookies written)");
    }
    for line in lines {
        println!("Set-Cookie: {}", shorten(&line));
    }
    for (name, value) in jar.response_headers() {
        println!("{name}: {value}");
    }
}

/// Cookie values are long: show the start and the end.
fn shorten(line: &str) -> String {
    match line.split_once("; ") {
        Some((pair, attrs)) if pair.len() > 90 => {
            format!(
                "{}...{} ({} bytes); {attrs}",
                &pair[..60],
                &pair[pair.len() - 12..],
                pair.len()
            )
        }
        _ => line.to_owned(),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let external = std::env::var("SUPABASE_URL")
        .ok()
        .zip(std::env::var("SUPABASE_KEY").ok());
    let (_emulator, url, key, email, password) = match external {
        Some((url, key)) => {
            let email = std::env::var("DEMO_EMAIL")?;
            let password = std::env::var("DEMO_PASSWORD")?;
            println!("Using the Supabase project at {url}");
            (None, url, key, email, password)
        }
        None => {
            let emulator = EmulatorConfig::default().start().await?;
            emulator.create_user(DEMO_EMAIL, DEMO_PASSWORD).await?;
            println!("Started the local Auth emulator at {}", emulator.url());
            println!("Demo user: {DEMO_EMAIL} / {DEMO_PASSWORD}");
            let (url, key) = (emulator.url(), emulator.publishable_key().to_owned());
            (
                Some(emulator),
                url,
                key,
                DEMO_EMAIL.to_owned(),
                DEMO_PASSWORD.to_owned(),
            )
        }
    };
    let auth = SupabaseAuth::builder(&url, &key).build()?;
    println!("Session cookie name: {}", auth.storage_key());

    // Request 1: a sign-in form posts the credentials.
    let jar = Arc::new(CookieJar::default());
    let session = auth
        .server_client(jar.clone())
        .sign_in_with_password(&email, &password)
        .await?;
    print_response("POST /sign-in", &jar);
    println!(
        "(session expires at {}; the cookie holds the JSON @supabase/ssr stores)",
        session.expires_at()
    );

    // Request 2: the browser sends the cookies back; the server verifies the token locally.
    let cookie_header = jar.cookie_header();
    let next = Arc::new(CookieJar::from_cookie_header(&cookie_header));
    let client = auth.server_client(next.clone());
    if let Some(claims) = client.get_claims().await? {
        println!(
            "\n== GET /dashboard\nverified: sub={} email={} role={} aal={}",
            claims.sub.as_deref().unwrap_or("?"),
            claims.email.as_deref().unwrap_or("?"),
            claims.role.as_deref().unwrap_or("?"),
            claims.aal.as_deref().unwrap_or("?"),
        );
    }
    print_response("GET /dashboard response", &next);

    // Request 3: the session is refreshed (as the proxy does when it nears expiry).
    let refresh = Arc::new(CookieJar::from_cookie_header(&cookie_header));
    auth.server_client(refresh.clone())
        .refresh_session()
        .await?;
    print_response("refresh: the rotated session replaces the cookie", &refresh);

    // Request 4: sign out.
    let out = Arc::new(CookieJar::from_cookie_header(&refresh.cookie_header()));
    auth.server_client(out.clone())
        .sign_out(SignOutScope::Local)
        .await?;
    print_response("POST /sign-out", &out);
    Ok(())
}
