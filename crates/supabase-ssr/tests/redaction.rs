//! No secret leaks: sign-in, refresh, failures and forged tokens are driven with every
//! log event captured at TRACE level, and neither those logs, nor any `Debug` output,
//! nor any error message may contain a token, a refresh token, a password, a PKCE
//! verifier or a key.
#![allow(clippy::unwrap_used)]

mod common;
mod reliability;

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use common::*;
use reliability::{EsKey, hs256, payload};
use serde_json::json;
use supabase_ssr::adapter::codec::decode_value;
use supabase_ssr::api_auth::{AuthMode, AuthModes, Credentials, KeyName};
use supabase_ssr::clock::{Clock, ManualClock, SystemClock};
use supabase_ssr::cookies::CookieJar;
use supabase_ssr::{AuthError, OtpOptions, SignOutScope, UnverifiedSession};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Every event and span, rendered as `LEVEL target: field=value ...`.
#[derive(Default)]
struct Capture {
    lines: Mutex<Vec<(String, String)>>,
    next_id: AtomicU64,
}

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={value}", field.name());
    }
}

impl Capture {
    fn push(&self, meta: &Metadata<'_>, fields: String) {
        let line = format!("{} {}:{fields}", meta.level(), meta.target());
        self.lines
            .lock()
            .unwrap()
            .push((meta.target().to_owned(), line));
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut fields = Fields(String::new());
        span.record(&mut fields);
        self.push(span.metadata(), fields.0);
        Id::from_u64(self.next_id.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn record(&self, _: &Id, values: &Record<'_>) {
        let mut fields = Fields(String::new());
        values.record(&mut fields);
        self.lines
            .lock()
            .unwrap()
            .push(("span-record".into(), fields.0));
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        self.push(event.metadata(), fields.0);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<&'static Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture: &'static Capture = Box::leak(Box::default());
        tracing::subscriber::set_global_default(Forward(capture)).unwrap();
        capture
    })
}

/// The global subscriber, forwarding to the leaked capture.
struct Forward(&'static Capture);

impl Subscriber for Forward {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        self.0.enabled(m)
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        self.0.max_level_hint()
    }
    fn new_span(&self, s: &Attributes<'_>) -> Id {
        self.0.new_span(s)
    }
    fn record(&self, i: &Id, r: &Record<'_>) {
        self.0.record(i, r)
    }
    fn record_follows_from(&self, a: &Id, b: &Id) {
        self.0.record_follows_from(a, b)
    }
    fn event(&self, e: &Event<'_>) {
        self.0.event(e)
    }
    fn enter(&self, i: &Id) {
        self.0.enter(i)
    }
    fn exit(&self, i: &Id) {
        self.0.exit(i)
    }
}

/// What must never be shown, and everything that was shown.
#[derive(Default)]
struct Audit {
    secrets: Vec<(String, String)>,
    shown: Vec<(String, String)>,
}

impl Audit {
    fn secret(&mut self, what: &str, value: &str) {
        assert!(value.len() >= 8, "{what} is too short to search for");
        self.secrets.push((what.to_owned(), value.to_owned()));
    }

    /// A token, and its signature on its own.
    fn token(&mut self, what: &str, token: &str) {
        self.secret(what, token);
        if let Some(sig) = token.rsplit('.').next().filter(|s| s.len() >= 16) {
            self.secret(&format!("{what} signature"), sig);
        }
    }

    fn session(&mut self, what: &str, s: &UnverifiedSession) {
        self.token(&format!("{what} access token"), s.access_token());
        self.secret(&format!("{what} refresh token"), s.refresh_token());
        self.show(&format!("{what} Debug"), format!("{s:?}"));
    }

    fn show(&mut self, what: &str, text: String) {
        self.shown.push((what.to_owned(), text));
    }

    fn error(&mut self, what: &str, err: &AuthError) {
        self.show(&format!("{what} Display"), err.to_string());
        self.show(&format!("{what} Debug"), format!("{err:?}"));
        self.show(&format!("{what} message"), err.message().to_owned());
        // The kept cause, all the way down, as a caller's error report would print it.
        let mut source = std::error::Error::source(err);
        let mut depth = 0;
        while let Some(cause) = source {
            depth += 1;
            self.show(&format!("{what} source {depth} Display"), cause.to_string());
            self.show(
                &format!("{what} source {depth} Debug"),
                format!("{cause:?}"),
            );
            source = cause.source();
        }
    }

    fn check(&self) {
        for (what, text) in &self.shown {
            for (secret_name, secret) in &self.secrets {
                assert!(
                    !text.contains(secret.as_str()),
                    "{secret_name} appears in {what}: {text}"
                );
            }
        }
    }
}

#[tokio::test]
async fn no_secret_reaches_logs_debug_output_or_error_messages() {
    let capture = capture();
    let emu = emulator().await;
    let mut audit = Audit::default();
    audit.secret("password", PASSWORD);
    audit.secret("publishable key", emu.publishable_key());
    audit.secret("secret key", emu.secret_key());
    audit.secret("JWT secret", emu.jwt_secret());
    audit.secret("custom header value", "hdr-secret-0123456789");

    let auth = builder(&emu)
        .header("x-app-secret", "hdr-secret-0123456789")
        .build()
        .unwrap();
    audit.show("SupabaseAuth Debug", format!("{auth:?}"));

    // A failed sign-in, then a good one.
    let jar = Arc::new(CookieJar::default());
    let client = auth.server_client(jar.clone());
    let err = client
        .sign_in_with_password(EMAIL, "wrong password 123")
        .await
        .unwrap_err();
    audit.secret("wrong password", "wrong password 123");
    audit.error("wrong password", &err);
    let session = client.sign_in_with_password(EMAIL, PASSWORD).await.unwrap();
    audit.session("sign-in", &session);
    audit.show("ServerClient Debug", format!("{client:?}"));
    audit.show("User Debug", format!("{:?}", session.user()));
    let claims = client.get_claims().await.unwrap().unwrap();
    audit.show("Claims Debug", format!("{claims:?}"));
    let cookies = jar.cookies();
    audit.show("Cookie Debug", format!("{cookies:?}"));

    // A refresh, 50 s before expiry.
    emu.advance_clock(Duration::from_secs(3550));
    let clock = ManualClock::new(SystemClock.now_millis() + 3_550_000);
    let later = builder(&emu)
        .header("x-app-secret", "hdr-secret-0123456789")
        .clock(clock.clone())
        .build()
        .unwrap();
    let refreshed_jar = Arc::new(CookieJar::new(cookies.clone()));
    let refreshed = later
        .server_client(refreshed_jar.clone())
        .get_session()
        .await
        .unwrap()
        .unwrap();
    audit.session("refreshed", &refreshed);
    assert_ne!(refreshed.refresh_token(), session.refresh_token());
    audit.show("CookieJar Debug", format!("{refreshed_jar:?}"));
    audit.show(
        "SetAllCall Debug",
        format!("{:?}", refreshed_jar.set_all_calls()),
    );

    // Failures: an outage on an expired session, a rejected refresh token.
    clock.advance_millis(3_700_000);
    emu.advance_clock(Duration::from_secs(3700));
    for fault in [503u16, 429] {
        // Past the pause the previous failure started: this request reaches Auth.
        clock.advance_millis(31_000);
        emu.faults().fail_all(fault).unwrap();
        let err = later
            .server_client(CookieJar::new(refreshed_jar.cookies()))
            .get_claims()
            .await
            .unwrap_err();
        audit.error(&format!("{fault} outage"), &err);
    }
    emu.faults().clear();
    emu.faults().drop_connections(true);
    clock.advance_millis(31_000);
    let err = later
        .server_client(CookieJar::new(refreshed_jar.cookies()))
        .get_claims()
        .await
        .unwrap_err();
    audit.error("dropped connection", &err);
    emu.faults().clear();
    let unknown = reliability::session_json("a.b.c", "zzzzzzzzzzzz", 1000);
    let jar = CookieJar::new(vec![supabase_ssr::cookies::Cookie::new(
        "sb-127-auth-token",
        supabase_ssr::adapter::codec::to_base64_value(&unknown),
    )]);
    clock.advance_millis(31_000);
    let err = later.server_client(jar).get_claims().await.unwrap_err();
    assert_eq!(err.code(), Some("refresh_token_not_found"));
    audit.error("unknown refresh token", &err);

    // Forged tokens.
    let iss = emu.auth_url();
    let forged = [
        hs256(
            emu.jwt_secret().as_bytes(),
            &json!({"alg": "HS256"}),
            &payload("x"),
        ),
        EsKey::generate("made-up").token(&payload(&iss)),
        EsKey::generate(&emu.signing_kid().unwrap()).token(&payload(&iss)),
    ];
    for (i, token) in forged.iter().enumerate() {
        audit.token(&format!("forged token {i}"), token);
        let err = auth
            .server_client(CookieJar::default())
            .verify_token(token)
            .await
            .unwrap_err();
        audit.error(&format!("forged token {i}"), &err);
        let expected = if i == 1 {
            supabase_ssr::AuthErrorKind::UnknownKey
        } else {
            supabase_ssr::AuthErrorKind::InvalidToken
        };
        assert_eq!(err.kind(), expected, "forged token {i}");
        assert!(
            std::error::Error::source(&err).is_some(),
            "forged token {i}"
        );
    }

    // A PKCE flow: the verifier is a secret too.
    let pkce_jar = Arc::new(CookieJar::default());
    auth.server_client(pkce_jar.clone())
        .sign_in_with_otp(EMAIL, OtpOptions::default())
        .await
        .unwrap();
    let verifier_cookie = pkce_jar
        .cookies()
        .into_iter()
        .find(|c| c.name == "sb-127-auth-token-code-verifier")
        .unwrap();
    let verifier: String =
        serde_json::from_str(&decode_value(&verifier_cookie.value).unwrap()).unwrap();
    audit.secret("PKCE verifier", &verifier);
    audit.show("PKCE CookieJar Debug", format!("{pkce_jar:?}"));

    // A password change and a sign-out.
    let fresh_jar = Arc::new(CookieJar::new(signed_in_cookies(&auth).await));
    let fresh = auth.server_client(fresh_jar.clone());
    let mut attrs = serde_json::Map::new();
    attrs.insert("password".into(), json!("a brand new passphrase 42"));
    audit.secret("new password", "a brand new passphrase 42");
    let user = fresh.update_user(attrs).await.unwrap();
    audit.show("updated User Debug", format!("{user:?}"));
    audit.session("after update", &fresh.get_session().await.unwrap().unwrap());
    fresh.sign_out(SignOutScope::Local).await.unwrap();
    audit.show("signed-out CookieJar Debug", format!("{fresh_jar:?}"));

    // API auth: bearer tokens and API keys, accepted and refused, and the Data API's
    // headers.
    let api = builder(&emu)
        .secret_key("automations", emu.secret_key())
        .build()
        .unwrap();
    audit.show("ApiKeys Debug", format!("{:?}", api.api_keys()));
    let modes = AuthModes::new([
        AuthMode::User,
        AuthMode::Secret(KeyName::Any),
        AuthMode::None,
    ]);
    // The first sign-in's token: still valid by the system clock.
    let token = session.access_token().to_owned();
    let mut bearer_forms: Vec<(String, String)> = vec![
        ("valid".into(), token.clone()),
        (
            "apikey in the bearer slot".into(),
            emu.secret_key().to_owned(),
        ),
    ];
    bearer_forms.extend(
        forged
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("forged {i}"), t.clone())),
    );
    let mut callers = Vec::new();
    for (what, bearer) in bearer_forms {
        let mut headers = http::HeaderMap::new();
        headers.insert("authorization", format!("Bearer {bearer}").parse().unwrap());
        headers.insert("apikey", emu.secret_key().parse().unwrap());
        let credentials = Credentials::from_headers(&headers);
        audit.show(
            &format!("Credentials Debug ({what})"),
            format!("{credentials:?}"),
        );
        match api.authenticate(&credentials, &modes, None).await {
            Ok(caller) => {
                callers.push(format!("{what}: {}", caller.mode()));
                audit.show(&format!("Caller Debug ({what})"), format!("{caller:?}"));
                if let Some(user) = caller.user() {
                    let headers = api.data_api_headers(Some(user));
                    audit.show("Data API HeaderMap Debug", format!("{headers:?}"));
                }
            }
            Err(error) => {
                callers.push(format!("{what}: {}", error.code()));
                audit.show(
                    &format!("ApiAuthError ({what})"),
                    format!("{error} {error:?}"),
                );
                audit.show(
                    &format!("ApiAuthError JSON ({what})"),
                    serde_json::to_string(&error).unwrap(),
                );
            }
        }
    }

    assert_eq!(
        callers,
        [
            "valid: user",
            "apikey in the bearer slot: secret",
            "forged 0: invalid_token",
            "forged 1: invalid_token",
            "forged 2: invalid_token",
        ]
    );

    // Everything our crate logged, at every level.
    let lines = capture.lines.lock().unwrap().clone();
    let ours: Vec<&(String, String)> = lines
        .iter()
        .filter(|(target, _)| !target.starts_with("supabase_auth_emulator"))
        .collect();
    assert!(
        ours.iter()
            .any(|(target, _)| target.starts_with("supabase_ssr")),
        "the test must see the crate's own log events: {lines:#?}"
    );
    for (target, line) in ours {
        audit.show(&format!("log ({target})"), line.clone());
    }
    audit.check();
}
