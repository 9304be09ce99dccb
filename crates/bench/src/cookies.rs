//! `bench cookies`: how big the session cookies are with each `CookieContents`, for a
//! typical session and sessions whose user carries profile metadata, as the emulator
//! issues them (ES256 tokens, GoTrue's user and claims). Sizes, not timings: the figures are the same
//! on every machine.

use std::sync::Arc;

use serde_json::{Map, Value, json};
use supabase_auth_emulator::{Emulator, EmulatorConfig};
use supabase_ssr::cookies::{CookieContents, CookieJar};
use supabase_ssr::{SignUpOptions, SignUpOutcome, SupabaseAuth};

const PASSWORD: &str = "cookie-size-password-1";

/// One session stored with one setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sizes {
    /// How many cookies the session takes.
    pub(crate) cookies: usize,
    /// Bytes of the `Cookie` header a browser sends back with them (names, `=`, values,
    /// `; ` between).
    pub(crate) cookie_header: usize,
    /// Bytes of the stored session JSON.
    pub(crate) json: usize,
}

/// A small profile, what an OAuth sign-in leaves in `user_metadata` (about 0.4 KB of
/// JSON).
fn small_profile() -> Map<String, Value> {
    object(json!({
        "avatar_url": "https://lh3.googleusercontent.com/a/ACg8ocJ2x9Qm7Lk1bW0vT4nR8sY3eF6hU5pZ1aD0cV9iK2=s96-c",
        "email": "small@example.com",
        "email_verified": true,
        "full_name": "Ada Lovelace",
        "iss": "https://accounts.google.com",
        "name": "Ada Lovelace",
        "phone_verified": false,
        "picture": "https://lh3.googleusercontent.com/a/ACg8ocJ2x9Qm7Lk1bW0vT4nR8sY3eF6hU5pZ1aD0cV9iK2=s96-c",
        "provider_id": "108123456789012345678",
        "sub": "108123456789012345678",
    }))
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// A large profile: everything an app keeps about its user in `user_metadata` (about
/// 2.5 KB of JSON).
fn large_profile() -> Map<String, Value> {
    object(json!({
        "full_name": "Ada Lovelace",
        "avatar_url": "https://avatars.example.com/u/8d0c6f1e-2b7a-4c1e-9a55-3f0e7b2d9c41?s=256&v=4",
        "locale": "en-GB",
        "timezone": "Europe/London",
        "bio": "Mathematician and writer, chiefly known for her work on Charles Babbage's \
                proposed mechanical general-purpose computer, the Analytical Engine. She \
                was the first to recognise that the machine had applications beyond pure \
                calculation, and published the first algorithm intended to be carried out \
                by such a machine.",
        "company": "Analytical Engines Ltd",
        "job_title": "Head of Computation",
        "website": "https://ada.example.com",
        "preferences": {
            "theme": "dark", "density": "comfortable", "language": "en",
            "email_digest": "weekly", "notifications": {
                "mentions": true, "comments": true, "reviews": false, "releases": true,
                "billing": true, "security": true, "marketing": false,
            },
            "dashboard_widgets": ["usage", "errors", "latency", "deploys", "billing", "team"],
        },
        "onboarding": {
            "completed_steps": ["profile", "team", "project", "billing", "integrations"],
            "completed_at": "2026-11-02T09:14:27.511Z",
            "referrer": "https://news.example.com/item?id=41234567",
        },
        "teams": [
            {"id": "5c2f7e1a-9d4b-4b8e-8f3a-1e6d2c9b7a40", "name": "Engines", "role": "owner"},
            {"id": "b7e4a2c9-3f1d-4e6a-9c8b-2d5f7a1e3c60", "name": "Research", "role": "member"},
            {"id": "e1d9c3b7-5a2f-4c8e-b6d4-9f3a1c7e5b20", "name": "Docs", "role": "viewer"},
        ],
    }))
}

/// The sizes of `email`'s session with `contents`, signed in through our client.
async fn sizes(
    emulator: &Emulator,
    email: &str,
    contents: CookieContents,
) -> Result<Sizes, String> {
    let auth = SupabaseAuth::builder(emulator.url(), emulator.publishable_key())
        .cookie_contents(contents)
        .build()
        .map_err(|e| e.to_string())?;
    let jar = Arc::new(CookieJar::default());
    let session = auth
        .server_client(jar.clone())
        .sign_in_with_password(email, PASSWORD)
        .await
        .map_err(|e| format!("sign in: {e}"))?;
    Ok(Sizes {
        cookies: jar.cookies().len(),
        cookie_header: jar.cookie_header().len(),
        json: session.as_json().len(),
    })
}

/// `(session, contents, sizes)` for a typical session (email and password, no metadata)
/// and sessions with a small and a large profile in `user_metadata`, each stored both
/// ways.
pub(crate) async fn measure(
    emulator: &Emulator,
) -> Result<Vec<(&'static str, CookieContents, Sizes)>, String> {
    let auth = SupabaseAuth::builder(emulator.url(), emulator.publishable_key())
        .build()
        .map_err(|e| e.to_string())?;
    let users = [
        ("typical", "typical@example.com", None),
        ("small profile", "small@example.com", Some(small_profile())),
        ("large profile", "large@example.com", Some(large_profile())),
    ];
    let mut rows = Vec::new();
    for (label, email, metadata) in users {
        let mut options = SignUpOptions::default();
        options.data = metadata;
        let signed_up = auth
            .server_client(CookieJar::default())
            .sign_up(email, PASSWORD, options)
            .await
            .map_err(|e| format!("sign up: {e}"))?;
        if !matches!(signed_up, SignUpOutcome::SignedIn(_)) {
            return Err("the emulator did not sign the new user in".into());
        }
        for contents in [CookieContents::UserAndTokens, CookieContents::TokensOnly] {
            rows.push((label, contents, sizes(emulator, email, contents).await?));
        }
    }
    Ok(rows)
}

pub(crate) async fn run() -> Result<(), String> {
    let emulator = EmulatorConfig::default()
        .start()
        .await
        .map_err(|e| format!("emulator: {e}"))?;
    let rows = measure(&emulator).await;
    emulator.shutdown().await;
    println!("\n== session cookie sizes (emulator sessions, ES256 tokens) ==");
    println!(
        "{:<15} {:<16} {:>8} {:>14} {:>12}",
        "session", "contents", "cookies", "Cookie bytes", "JSON bytes"
    );
    for (label, contents, s) in rows? {
        let contents = match contents {
            CookieContents::TokensOnly => "tokens-only",
            _ => "user-and-tokens",
        };
        println!(
            "{label:<15} {contents:<16} {:>8} {:>14} {:>12}",
            s.cookies, s.cookie_header, s.json
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The cookie counts BENCHMARKS.md quotes. The access token carries `user_metadata`
    /// too (GoTrue puts it in the claims), so tokens-only cookies still grow with it,
    /// about half as fast.
    #[tokio::test]
    async fn tokens_only_cookies_take_fewer_cookies() {
        let emulator = EmulatorConfig::default().start().await.unwrap();
        let rows = measure(&emulator).await.unwrap();
        emulator.shutdown().await;
        let counts: Vec<(&str, CookieContents, usize)> =
            rows.iter().map(|(l, c, s)| (*l, *c, s.cookies)).collect();
        assert_eq!(
            counts,
            [
                ("typical", CookieContents::UserAndTokens, 1),
                ("typical", CookieContents::TokensOnly, 1),
                ("small profile", CookieContents::UserAndTokens, 2),
                ("small profile", CookieContents::TokensOnly, 1),
                ("large profile", CookieContents::UserAndTokens, 3),
                ("large profile", CookieContents::TokensOnly, 2),
            ]
        );
        // Tokens-only is the same session without its user: smaller whatever the user.
        for pair in rows.chunks(2) {
            assert!(
                pair[1].2.json < pair[0].2.json
                    && pair[1].2.cookie_header < pair[0].2.cookie_header
            );
        }
    }
}
