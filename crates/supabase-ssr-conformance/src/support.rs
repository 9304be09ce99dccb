//! Shared by the scenarios: an emulator with a user, clients over it, and expected
//! values computed apart from the app.
#![allow(
    clippy::unwrap_used,
    reason = "a scenario fails on what it did not expect"
)]

use std::sync::Arc;
use std::time::Duration;

use supabase_auth_emulator::{Emulator, EmulatorConfig};
use supabase_ssr::adapter::codec::cookie_header_value;
use supabase_ssr::clock::{Clock, ManualClock, SystemClock};
use supabase_ssr::cookies::{Cookie, CookieJar};
use supabase_ssr::{SupabaseAuth, SupabaseAuthBuilder};

use crate::{AppConfig, AppUnderTest, RunningApp};

/// The seeded user's email.
pub const EMAIL: &str = "ada@example.com";
/// The seeded user's password.
pub const PASSWORD: &str = "correct horse battery staple";
/// The session cookie's name for a project on 127.0.0.1.
pub(crate) const SESSION: &str = "sb-127-auth-token";
/// The attributes of every cookie written, in `cookie.serialize` order.
pub(crate) const ATTRIBUTES: &str = "; Max-Age=34560000; Path=/; SameSite=Lax";
/// The deletion of the session cookie.
pub(crate) const SESSION_DELETION: &str = "sb-127-auth-token=; Max-Age=0; Path=/; SameSite=Lax";
pub(crate) const NO_STORE: &str = "private, no-cache, no-store, must-revalidate, max-age=0";
/// The named keys the API routes know, besides the project's default ones.
pub(crate) const SECRET: &str = "sb_secret_automations_0123456789";
pub(crate) const WEB_KEY: &str = "sb_publishable_web_0123456789";

/// An emulator on 127.0.0.1:0 with an in-memory store and a confirmed user.
pub(crate) async fn emulator() -> Emulator {
    let emu = EmulatorConfig::default().start().await.unwrap();
    emu.create_user(EMAIL, PASSWORD).await.unwrap();
    emu.clear_requests();
    emu
}

pub(crate) fn builder(emu: &Emulator) -> SupabaseAuthBuilder {
    SupabaseAuth::builder(emu.url(), emu.publishable_key())
        .retry_budget(Duration::from_millis(800))
        .secret_key("automations", SECRET)
        .publishable_key("web", WEB_KEY)
}

pub(crate) fn auth(emu: &Emulator) -> SupabaseAuth {
    builder(emu).build().unwrap()
}

/// A client whose clock (and the emulator's) is `secs` ahead: 3550 puts a fresh
/// session inside the 90 s refresh margin, 3700 past its expiry.
pub(crate) fn auth_ahead(emu: &Emulator, secs: u64) -> SupabaseAuth {
    emu.advance_clock(Duration::from_secs(secs));
    let clock = ManualClock::new(SystemClock.now_millis() + i64::try_from(secs).unwrap() * 1000);
    builder(emu).clock(clock).build().unwrap()
}

/// Serves the app under test with this client and no login path.
pub(crate) fn serve<A: AppUnderTest>(auth: &SupabaseAuth) -> RunningApp {
    A::serve(AppConfig {
        auth: auth.clone(),
        login_path: None,
    })
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

/// The value of the cookie `name`.
pub(crate) fn value_of<'a>(cookies: &'a [Cookie], name: &str) -> &'a str {
    &cookies.iter().find(|c| c.name == name).unwrap().value
}

pub(crate) fn header_of(cookies: &[Cookie]) -> String {
    cookie_header_value(cookies)
}

/// `POST /token?grant_type=refresh_token` requests the emulator served.
pub(crate) fn refreshes(emu: &Emulator) -> usize {
    emu.requests()
        .iter()
        .filter(|r| {
            r.method == "POST"
                && r.path.ends_with("/token")
                && r.query.contains("grant_type=refresh_token")
        })
        .count()
}

/// What the core writes for these cookies with this client, computed apart from the
/// app: the `Set-Cookie` lines and the `Cookie` header seen downstream. Called after the
/// app's request, it shares that refresh (same refresh token, within the reuse window),
/// so it makes no request of its own.
pub(crate) async fn expected_writes(
    auth: &SupabaseAuth,
    cookies: &[Cookie],
) -> (Vec<String>, String) {
    let jar = Arc::new(CookieJar::new(cookies.to_vec()));
    auth.server_client(jar.clone()).get_claims().await.unwrap();
    (jar.set_cookie_headers(), jar.cookie_header())
}

/// The cache headers a response carrying cookies has.
pub(crate) fn no_store() -> (Vec<String>, Vec<String>, Vec<String>) {
    (
        vec![NO_STORE.into()],
        vec!["0".into()],
        vec!["no-cache".into()],
    )
}

pub(crate) fn no_cache_headers() -> (Vec<String>, Vec<String>, Vec<String>) {
    (vec![], vec![], vec![])
}
