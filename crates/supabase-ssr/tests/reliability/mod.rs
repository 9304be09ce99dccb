//! Helpers of the reliability tests (hostile input, outages, floods, redaction): keys
//! and forged tokens, session cookies built by hand, and a small fake Auth server on
//! 127.0.0.1 that counts what it is asked.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use supabase_ssr::adapter::codec::to_base64_value;
use supabase_ssr::clock::{Clock, SystemClock};
use supabase_ssr::cookies::{Cookie, CookieJar, SetAllCall};

/// The storage key of a project served from `http://127.0.0.1:<port>`.
pub(crate) const KEY: &str = "sb-127-auth-token";

pub(crate) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn now_secs() -> i64 {
    SystemClock.now_millis() / 1000
}

/// A P-256 signing key and its public JWK (the shape Supabase Auth publishes).
pub(crate) struct EsKey {
    pub(crate) kid: String,
    pub(crate) encoding: EncodingKey,
    pub(crate) jwk: Value,
}

impl EsKey {
    pub(crate) fn generate(kid: &str) -> Self {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        let point = pair.public_key().as_ref();
        let jwk = json!({
            "alg": "ES256", "crv": "P-256", "ext": true, "key_ops": ["verify"], "kid": kid,
            "kty": "EC", "use": "sig", "x": b64(&point[1..33]), "y": b64(&point[33..65]),
        });
        Self {
            kid: kid.to_owned(),
            encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk,
        }
    }

    /// Signs `payload` under `header` with this key, whatever the header claims.
    pub(crate) fn sign(&self, header: &Value, payload: &Value) -> String {
        sign_with(&self.encoding, Algorithm::ES256, header, payload)
    }

    /// An ES256 token with this key's `kid`.
    pub(crate) fn token(&self, payload: &Value) -> String {
        self.sign(
            &json!({"alg": "ES256", "kid": self.kid, "typ": "JWT"}),
            payload,
        )
    }
}

pub(crate) fn sign_with(
    key: &EncodingKey,
    alg: Algorithm,
    header: &Value,
    payload: &Value,
) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    );
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), key, alg).unwrap();
    format!("{input}.{signature}")
}

/// `<header>.<payload>.<signature>` with the signature given as is.
pub(crate) fn unsigned(header: &Value, payload: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    )
}

/// An HS256 token signed with `secret`.
pub(crate) fn hs256(secret: &[u8], header: &Value, payload: &Value) -> String {
    sign_with(
        &EncodingKey::from_secret(secret),
        Algorithm::HS256,
        header,
        payload,
    )
}

/// The payload Supabase Auth writes, valid for an hour from now.
pub(crate) fn payload(issuer: &str) -> Value {
    let now = now_secs();
    json!({
        "iss": issuer, "sub": "8d4e3a6c-2b1f-4f0e-9a7d-5c6b4a3e2d1f", "aud": "authenticated",
        "exp": now + 3600, "iat": now, "email": "mallory@example.com", "phone": "",
        "app_metadata": {"provider": "email", "providers": ["email"]}, "user_metadata": {},
        "role": "authenticated", "aal": "aal1",
        "amr": [{"method": "password", "timestamp": now}],
        "session_id": "0b9f3c1e-7a2d-4c5b-8e6f-1a2b3c4d5e6f", "is_anonymous": false,
    })
}

/// `payload` with `changes` applied (a `null` removes the claim).
pub(crate) fn payload_with(issuer: &str, changes: Value) -> Value {
    let mut p = payload(issuer);
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            p.as_object_mut().unwrap().remove(k);
        } else {
            p[k] = v.clone();
        }
    }
    p
}

/// The stored session JSON auth-js writes, for tokens made by hand.
pub(crate) fn session_json(access_token: &str, refresh_token: &str, expires_at: i64) -> String {
    json!({
        "access_token": access_token, "token_type": "bearer", "expires_in": 3600,
        "expires_at": expires_at, "refresh_token": refresh_token,
        "user": {"id": "8d4e3a6c-2b1f-4f0e-9a7d-5c6b4a3e2d1f"},
    })
    .to_string()
}

/// A cookie jar holding one session cookie (`base64-` encoded) for `access_token`,
/// not expiring for an hour (so no refresh is attempted).
pub(crate) fn jar_with_token(access_token: &str) -> Arc<CookieJar> {
    let value = to_base64_value(&session_json(
        access_token,
        "aaaaaaaaaaaa",
        now_secs() + 3600,
    ));
    Arc::new(CookieJar::new(vec![
        Cookie::new(KEY, value),
        Cookie::new("theme", "dark"),
    ]))
}

/// `(name, Max-Age)` of every cookie of every `set_all` call.
pub(crate) fn written(calls: &[SetAllCall]) -> Vec<Vec<(String, Option<i64>)>> {
    calls
        .iter()
        .map(|c| {
            c.cookies
                .iter()
                .map(|s| (s.name.clone(), s.options.max_age))
                .collect()
        })
        .collect()
}

/// What the fake Auth server was asked, and how busy `/user` got.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    pub(crate) jwks: AtomicUsize,
    pub(crate) user: AtomicUsize,
    pub(crate) token: AtomicUsize,
    user_in_flight: AtomicUsize,
    pub(crate) user_max_in_flight: AtomicUsize,
    user_delay_ms: AtomicU64,
}

impl Counts {
    pub(crate) fn jwks(&self) -> usize {
        self.jwks.load(Ordering::SeqCst)
    }
    pub(crate) fn user(&self) -> usize {
        self.user.load(Ordering::SeqCst)
    }
    pub(crate) fn token(&self) -> usize {
        self.token.load(Ordering::SeqCst)
    }
    pub(crate) fn user_max_in_flight(&self) -> usize {
        self.user_max_in_flight.load(Ordering::SeqCst)
    }
}

/// A fake Auth server: serves a JWKS of the given keys, rejects every `/user` check
/// (403 `bad_jwt`, as the real server does for a token it did not sign) after an
/// optional delay, and rejects every refresh token (400 `refresh_token_not_found`).
pub(crate) struct FakeAuth {
    pub(crate) url: String,
    pub(crate) counts: Arc<Counts>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeAuth {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeAuth {
    pub(crate) async fn start(jwks: Vec<Value>) -> Self {
        let counts = Arc::new(Counts::default());
        let doc = json!({ "keys": jwks }).to_string();
        let (c1, c2, c3) = (counts.clone(), counts.clone(), counts.clone());
        let app = Router::new()
            .route(
                "/auth/v1/.well-known/jwks.json",
                get(move || {
                    let doc = doc.clone();
                    async move {
                        c1.jwks.fetch_add(1, Ordering::SeqCst);
                        ([("content-type", "application/json")], doc)
                    }
                }),
            )
            .route(
                "/auth/v1/user",
                get(move || async move {
                    c2.user.fetch_add(1, Ordering::SeqCst);
                    let now = c2.user_in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    c2.user_max_in_flight.fetch_max(now, Ordering::SeqCst);
                    let delay = c2.user_delay_ms.load(Ordering::SeqCst);
                    if delay > 0 {
                        tokio::time::sleep(Duration::from_millis(delay)).await;
                    }
                    c2.user_in_flight.fetch_sub(1, Ordering::SeqCst);
                    (
                        StatusCode::FORBIDDEN,
                        axum::Json(json!({"code": 403, "error_code": "bad_jwt",
                            "msg": "invalid JWT: unable to parse or verify signature, token signature is invalid"})),
                    )
                        .into_response()
                }),
            )
            .route(
                "/auth/v1/token",
                post(move || async move {
                    c3.token.fetch_add(1, Ordering::SeqCst);
                    (
                        StatusCode::BAD_REQUEST,
                        axum::Json(json!({"code": 400, "error_code": "refresh_token_not_found",
                            "msg": "Invalid Refresh Token: Refresh Token Not Found"})),
                    )
                        .into_response()
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, counts, task }
    }

    /// `<url>/auth/v1`: the issuer the client expects by default.
    pub(crate) fn issuer(&self) -> String {
        format!("{}/auth/v1", self.url)
    }

    /// Every `/user` check takes this long.
    pub(crate) fn set_user_delay(&self, delay: Duration) {
        self.counts
            .user_delay_ms
            .store(u64::try_from(delay.as_millis()).unwrap(), Ordering::SeqCst);
    }
}

/// A random `kid`, as a flood would send.
pub(crate) fn random_kid() -> String {
    use rand::RngCore as _;
    let mut bytes = [0u8; 12];
    rand::rng().fill_bytes(&mut bytes);
    b64(&bytes)
}
