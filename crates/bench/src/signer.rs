//! A Supabase project of our own for benchmarks that need many distinct users: an ES256
//! key whose JWKS is served on 127.0.0.1 at `/auth/v1/.well-known/jwks.json`, and
//! Supabase-shaped access tokens and session cookies signed with it, as many as wanted,
//! without an Auth server signing each one in.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _,
    ParsedPublicKey,
};
use axum::Router;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use supabase_ssr::clock::{Clock as _, SystemClock};
use tokio::task::JoinHandle;

const KID: &str = "bench-es256";

/// Signs tokens and builds session cookies for user number `n`.
pub(crate) struct Signer {
    pair: EcdsaKeyPair,
    rng: SystemRandom,
    header: String,
    issuer: String,
    now: i64,
}

impl Signer {
    /// The access token of user `n`: distinct `sub`, `session_id` and email (17 to 56
    /// characters, so tokens vary in length as real ones do), valid for an hour.
    pub(crate) fn token(&self, n: u64) -> Result<String, String> {
        let payload = json!({
            "iss": self.issuer,
            "sub": format!("00000000-0000-4000-8000-{n:012}"),
            "aud": "authenticated",
            "exp": self.now + 3600,
            "iat": self.now,
            "email": format!("user{n}{}@example.com", "x".repeat(spread(n, 40))),
            "phone": "",
            "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": {"email_verified": true},
            "role": "authenticated",
            "aal": "aal1",
            "amr": [{"method": "password", "timestamp": self.now}],
            "session_id": format!("10000000-0000-4000-8000-{n:012}"),
            "is_anonymous": false
        });
        let message = format!(
            "{}.{}",
            self.header,
            URL_SAFE_NO_PAD.encode(payload.to_string())
        );
        let signature = self
            .pair
            .sign(&self.rng, message.as_bytes())
            .map_err(|_| "signing failed".to_owned())?;
        Ok(format!(
            "{message}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }

    /// The `Cookie` header of user `n`'s session holding `token` (the default cookie
    /// contents, a small user object; one cookie).
    pub(crate) fn session_cookie(&self, token: &str, n: u64) -> String {
        let session = json!({
            "access_token": token,
            "token_type": "bearer",
            "expires_in": 3600,
            "expires_at": self.now + 3600,
            "refresh_token": format!("r{n:011}"),
            "user": {"id": format!("00000000-0000-4000-8000-{n:012}"), "aud": "authenticated",
                     "role": "authenticated", "app_metadata": {"provider": "email"},
                     "user_metadata": {}},
        });
        format!(
            "sb-127-auth-token=base64-{}",
            URL_SAFE_NO_PAD.encode(session.to_string())
        )
    }
}

impl Signer {
    /// User `n`'s access token and session cookie.
    pub(crate) fn session(&self, n: u64) -> Result<(String, String), String> {
        let token = self.token(n)?;
        let cookie = self.session_cookie(&token, n);
        Ok((token, cookie))
    }

    /// Writes the session cookies of `users` to `cookies`, one per line, and their access
    /// tokens to `tokens` when given (the same order).
    pub(crate) fn write_sessions(
        &self,
        users: impl Iterator<Item = u64>,
        tokens: Option<&Path>,
        cookies: &Path,
    ) -> Result<(), String> {
        let create = |path: &Path| {
            std::fs::File::create(path)
                .map(std::io::BufWriter::new)
                .map_err(|e| format!("{}: {e}", path.display()))
        };
        let mut cookie_out = create(cookies)?;
        let mut token_out = tokens.map(create).transpose()?;
        let write = |out: &mut std::io::BufWriter<std::fs::File>, line: &str| {
            writeln!(out, "{line}").map_err(|e| e.to_string())
        };
        for n in users {
            let (token, cookie) = self.session(n)?;
            if let Some(out) = &mut token_out {
                write(out, &token)?;
            }
            write(&mut cookie_out, &cookie)?;
        }
        for out in token_out.iter_mut().chain([&mut cookie_out]) {
            out.flush().map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// The ES256 public key of a JWK (`x`, `y`), parsed once for aws-lc's signature check.
pub(crate) fn es256_key(jwk: &serde_json::Value) -> Result<ParsedPublicKey, String> {
    let coordinate = |name: &str| {
        jwk[name]
            .as_str()
            .and_then(|c| URL_SAFE_NO_PAD.decode(c).ok())
            .ok_or_else(|| format!("JWK without a valid {name:?}"))
    };
    let mut point = vec![4u8];
    point.extend(coordinate("x")?);
    point.extend(coordinate("y")?);
    ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).map_err(|_| "bad ES256 JWK".to_owned())
}

/// A number below `below`, spread evenly but unordered over `n` (a multiplicative hash).
fn spread(n: u64, below: u64) -> usize {
    usize::try_from(n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32).unwrap_or(0) % below as usize
}

/// The project: its URL (`http://127.0.0.1:PORT`, so the cookie name is
/// `sb-127-auth-token`), the JWKS server's task and the signer.
pub(crate) struct TestProject {
    pub(crate) url: String,
    pub(crate) signer: Arc<Signer>,
    server: JoinHandle<()>,
}

impl TestProject {
    /// The API key servers of this project are built with (nothing checks it).
    pub(crate) const KEY: &str = "sb_publishable_bench";

    /// A new key, its JWKS served on 127.0.0.1 (a port the OS chooses).
    pub(crate) async fn start() -> Result<Self, String> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| "key generation failed")?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .map_err(|_| "key generation failed")?;
        let point = pair.public_key().as_ref().to_vec();
        let jwks = json!({"keys": [{
            "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": KID,
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..]),
        }]});
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| e.to_string())?;
        let url = format!(
            "http://127.0.0.1:{}",
            listener.local_addr().map_err(|e| e.to_string())?.port()
        );
        let app = Router::new().route(
            "/auth/v1/.well-known/jwks.json",
            get(move || {
                let jwks = jwks.clone();
                async move { axum::Json(jwks) }
            }),
        );
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let signer = Arc::new(Signer {
            pair,
            rng,
            header: URL_SAFE_NO_PAD
                .encode(json!({"alg": "ES256", "kid": KID, "typ": "JWT"}).to_string()),
            issuer: format!("{url}/auth/v1"),
            now: SystemClock.now_millis() / 1000,
        });
        Ok(Self {
            url,
            signer,
            server,
        })
    }

    /// Stops serving the JWKS.
    pub(crate) fn stop(self) {
        self.server.abort();
    }
}
