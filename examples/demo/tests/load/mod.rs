//! Helpers of the soak, scale-out and load-balancer tests: a browser's cookie jar kept
//! by hand (so every `Set-Cookie` is seen, deletions included), forged session cookies,
//! a small deterministic random source, and the parts of a soak ([`soak`]).
#![allow(dead_code, clippy::unwrap_used)]

pub(crate) mod cluster;
pub(crate) mod soak;

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use supabase_auth_emulator::RecordedRequest;
use supabase_ssr::adapter::codec::{decode_base64url, decode_value, to_base64_value};

/// The session cookie of a project on 127.0.0.1.
pub(crate) const SESSION: &str = "sb-127-auth-token";

/// `true` for the session cookie and its chunks.
pub(crate) fn is_session_cookie(name: &str) -> bool {
    name == SESSION
        || name
            .strip_prefix(SESSION)
            .and_then(|rest| rest.strip_prefix('.'))
            .is_some_and(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()))
}

/// What one response did to the session cookies.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SessionWrite {
    pub(crate) set: bool,
    pub(crate) deleted: bool,
}

impl SessionWrite {
    /// The session was deleted and no new one set: the browser is signed out.
    pub(crate) fn lost(&self) -> bool {
        self.deleted && !self.set
    }
}

/// A browser's cookies for one site, in the order they were set.
#[derive(Debug, Default, Clone)]
pub(crate) struct Browser {
    cookies: Vec<(String, String)>,
}

impl Browser {
    /// The `Cookie` header the browser sends.
    pub(crate) fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Applies a response's `Set-Cookie` lines, as a browser does.
    pub(crate) fn apply(&mut self, res: &reqwest::Response) -> SessionWrite {
        let mut write = SessionWrite::default();
        for line in res.headers().get_all(SET_COOKIE) {
            let line = line.to_str().unwrap();
            let mut attrs = line.split(';');
            let (name, value) = attrs.next().unwrap().split_once('=').unwrap();
            let (name, value) = (name.trim().to_owned(), value.trim().to_owned());
            let removal = attrs.any(|a| a.trim().eq_ignore_ascii_case("max-age=0"));
            if is_session_cookie(&name) {
                if removal {
                    write.deleted = true;
                } else {
                    write.set = true;
                }
            }
            self.cookies.retain(|(n, _)| *n != name);
            if !removal {
                self.cookies.push((name, value));
            }
        }
        write
    }

    /// The stored session JSON, chunks combined.
    pub(crate) fn session(&self) -> Option<Value> {
        let value = self
            .cookies
            .iter()
            .find(|(n, _)| n == SESSION)
            .map(|(_, v)| v.clone())
            .or_else(|| {
                let mut joined = String::new();
                for i in 0.. {
                    let name = format!("{SESSION}.{i}");
                    match self.cookies.iter().find(|(n, _)| *n == name) {
                        Some((_, v)) => joined.push_str(v),
                        None => break,
                    }
                }
                (!joined.is_empty()).then_some(joined)
            })?;
        let json = decode_value(&value)?;
        serde_json::from_str(&json).ok()
    }
}

/// One request with the browser's cookies; the response's cookies are applied.
pub(crate) async fn get(
    http: &reqwest::Client,
    browser: &mut Browser,
    url: &str,
) -> (reqwest::Response, SessionWrite) {
    let mut req = http.get(url);
    let header = browser.cookie_header();
    if !header.is_empty() {
        req = req.header(COOKIE, header);
    }
    let res = req.send().await.unwrap();
    let write = browser.apply(&res);
    (res, write)
}

/// Signs in through the demo's form; the browser gets the session.
pub(crate) async fn sign_in(
    http: &reqwest::Client,
    browser: &mut Browser,
    base: &str,
    email: &str,
    password: &str,
) {
    let res = http
        .post(format!("{base}/sign-in"))
        .form(&[
            ("email", email),
            ("password", password),
            ("next", "/dashboard"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "sign-in of {email}");
    assert_eq!(res.headers()[LOCATION], "/dashboard");
    assert!(browser.apply(&res).set);
}

/// An HTTP client like a browser's fetch with redirects off.
pub(crate) fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn b64(text: &str) -> String {
    to_base64_value(text)
        .strip_prefix("base64-")
        .unwrap()
        .to_owned()
}

/// Forged variants of a real access token: tampered claims with the original
/// signature, `alg: none`, an HS256 header, a truncated signature.
pub(crate) fn forgeries(token: &str) -> Vec<String> {
    let mut it = token.split('.');
    let header: Value =
        serde_json::from_str(&decode_base64url(it.next().unwrap()).unwrap()).unwrap();
    let payload: Value =
        serde_json::from_str(&decode_base64url(it.next().unwrap()).unwrap()).unwrap();
    let signature = it.next().unwrap();
    let join = |h: &Value, p: &Value, s: &str| {
        format!("{}.{}.{s}", b64(&h.to_string()), b64(&p.to_string()))
    };
    let mut out = Vec::new();
    for change in [
        json!({"sub": "00000000-0000-4000-8000-000000000000"}),
        json!({"role": "service_role"}),
        json!({"exp": 4_102_444_800_i64}),
        json!({"email": "admin@example.com"}),
    ] {
        let mut p = payload.clone();
        for (k, v) in change.as_object().unwrap() {
            p[k] = v.clone();
        }
        out.push(join(&header, &p, signature));
    }
    out.push(join(&json!({"alg": "none", "typ": "JWT"}), &payload, ""));
    let mut hs = header.clone();
    hs["alg"] = json!("HS256");
    out.push(join(&hs, &payload, signature));
    out.push(join(&header, &payload, &signature[..signature.len() / 2]));
    out
}

/// A session cookie header holding `access_token`, claiming to expire in a day (so
/// the app does not refresh it: the token alone decides).
pub(crate) fn forged_cookie(access_token: &str, refresh_token: &str) -> String {
    let far = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 86_400;
    let session = json!({
        "access_token": access_token, "token_type": "bearer", "expires_in": 3600,
        "expires_at": far, "refresh_token": refresh_token, "user": {"id": "x"},
    });
    format!("{SESSION}={}", to_base64_value(&session.to_string()))
}

/// xorshift64*: reproducible randomness without a dependency.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `lo..hi` (`hi > lo`).
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo)
    }

    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.range(0, 100) < percent
    }
}

/// A number from the environment, or `default`.
pub(crate) fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// `POST /token?grant_type=refresh_token`: a refresh that reached the Auth server (or
/// its fault layer, which records a request before failing it).
pub(crate) fn is_refresh_call(r: &RecordedRequest) -> bool {
    r.path.ends_with("/token") && r.query.contains("refresh_token")
}
