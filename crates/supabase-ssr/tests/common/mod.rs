//! Shared helpers of the integration tests: an emulator per test and cookie jars.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use supabase_auth_emulator::{Emulator, EmulatorConfig};
use supabase_ssr::cookies::{Cookie, CookieJar, CookieMethods, SetAllError, SetCookie};
use supabase_ssr::{SupabaseAuth, SupabaseAuthBuilder};

pub(crate) const EMAIL: &str = "ada@example.com";
pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// An emulator on 127.0.0.1:0 with an in-memory store and a confirmed user.
pub(crate) async fn emulator_with(config: EmulatorConfig) -> Emulator {
    let emu = config.start().await.unwrap();
    emu.create_user(EMAIL, PASSWORD).await.unwrap();
    emu.clear_requests();
    emu
}

pub(crate) async fn emulator() -> Emulator {
    emulator_with(EmulatorConfig::default()).await
}

pub(crate) fn builder(emu: &Emulator) -> SupabaseAuthBuilder {
    SupabaseAuth::builder(emu.url(), emu.publishable_key()).retry_budget(Duration::from_millis(800))
}

pub(crate) fn auth(emu: &Emulator) -> SupabaseAuth {
    builder(emu).build().unwrap()
}

/// Signs in through a fresh client and returns the browser's cookies afterwards.
pub(crate) async fn signed_in_cookies(auth: &SupabaseAuth) -> Vec<Cookie> {
    let jar = Arc::new(CookieJar::default());
    auth.server_client(jar.clone())
        .sign_in_with_password(EMAIL, PASSWORD)
        .await
        .unwrap();
    jar.cookies()
}

/// Requests the emulator served whose path ends with `suffix` (and whose query holds
/// `query`, when given).
pub(crate) fn count_requests(
    emu: &Emulator,
    method: &str,
    suffix: &str,
    query: Option<&str>,
) -> usize {
    emu.requests()
        .iter()
        .filter(|r| r.method == method && r.path.ends_with(suffix))
        .filter(|r| query.is_none_or(|q| r.query.contains(q)))
        .count()
}

/// A jar whose writes always fail, like a page render after the response started.
#[derive(Debug)]
pub(crate) struct ReadOnlyCookies(pub Vec<Cookie>);

impl CookieMethods for ReadOnlyCookies {
    fn get_all(&self) -> Vec<Cookie> {
        self.0.clone()
    }

    fn set_all(
        &self,
        _: &[SetCookie],
        _: &[(&'static str, &'static str)],
    ) -> Result<(), SetAllError> {
        Err(SetAllError::new("read-only context"))
    }
}

/// `(name, Max-Age)` of every cookie of every `set_all` call.
pub(crate) fn writes(jar: &CookieJar) -> Vec<Vec<(String, Option<i64>)>> {
    jar.set_all_calls()
        .iter()
        .map(|c| {
            c.cookies
                .iter()
                .map(|s| (s.name.clone(), s.options.max_age))
                .collect()
        })
        .collect()
}

/// The refresh token of the session stored in `cookies`.
pub(crate) fn stored_refresh_token(cookies: &[Cookie]) -> String {
    let cookie = cookies
        .iter()
        .find(|c| c.name == "sb-127-auth-token")
        .unwrap();
    let json = supabase_ssr::adapter::codec::decode_value(&cookie.value).unwrap();
    serde_json::from_str::<serde_json::Value>(&json).unwrap()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned()
}
