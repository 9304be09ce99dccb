//! `bench memory`: resident size while a stream of distinct, valid access tokens goes
//! through verification (each once as a miss, once as a hit). The tokens are signed with
//! a key of our own, published in a JWKS served on 127.0.0.1; the verified-token cache
//! has its default size, so it fills early and must then stay flat.
//!
//! `bench memory --sessions`: the same stream as session cookies, each read twice through
//! `get_session` (the decoded-session cache, default size 4,096, then a hit).

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use axum::Router;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use supabase_ssr::SupabaseAuth;
use supabase_ssr::clock::{Clock as _, SystemClock};
use supabase_ssr::cookies::CookieJar;

use crate::Options;
use crate::common::rss_kib;
use crate::rounds::verdict;

const KID: &str = "bench-es256";
/// Worker tasks (one per core).
const WORKERS: u64 = 2;

struct Signer {
    pair: EcdsaKeyPair,
    rng: SystemRandom,
    header: String,
    issuer: String,
    now: i64,
}

impl Signer {
    /// A Supabase-shaped access token, distinct for each `n`.
    fn token(&self, n: u64) -> Result<String, String> {
        let payload = json!({
            "iss": self.issuer,
            "sub": format!("00000000-0000-4000-8000-{n:012}"),
            "aud": "authenticated",
            "exp": self.now + 3600,
            "iat": self.now,
            // Emails of 17 to 56 characters, as real ones vary: a slot of the full
            // cache is rewritten with longer and shorter tokens in turn.
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

    /// The session cookie `@supabase/ssr` would write for a session holding `token`
    /// (one chunk; the storage key of a project at 127.0.0.1).
    fn session_cookie(&self, token: &str, n: u64) -> String {
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

/// A number below `below`, spread evenly but unordered over `n` (a multiplicative hash).
fn spread(n: u64, below: u64) -> usize {
    usize::try_from(n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32).unwrap_or(0) % below as usize
}

pub(crate) async fn run(options: &Options) -> Result<(), String> {
    let total = options
        .tokens
        .unwrap_or(if options.quick { 30_000 } else { 1_000_000 });
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

    let builder = SupabaseAuth::builder(url.clone(), "sb_publishable_bench");
    let builder = if options.no_token_cache {
        builder.disable_verified_token_cache()
    } else {
        builder
    };
    let auth = builder.build().map_err(|e| e.to_string())?;
    let signer = Arc::new(Signer {
        pair,
        rng,
        header: URL_SAFE_NO_PAD
            .encode(json!({"alg": "ES256", "kid": KID, "typ": "JWT"}).to_string()),
        issuer: format!("{url}/auth/v1"),
        now: SystemClock.now_millis() / 1000,
    });

    if options.sessions {
        println!(
            "\n## memory: {total} distinct session cookies, each read twice through get_session (miss, then hit), decoded-session cache at its default size (4,096)"
        );
    } else {
        println!(
            "\n## memory: {total} distinct valid ES256 tokens, each verified twice (miss, then hit), {}",
            if options.no_token_cache {
                "verified-token cache off"
            } else {
                "verified-token cache at its default size (10,000)"
            }
        );
    }
    let (count, first) = if options.sessions {
        ("session cookies read", "first read")
    } else {
        ("tokens verified", "first verification")
    };
    println!(
        "\n| {count} | VmRSS (MiB) | VmHWM (MiB) | seconds | {first} (µs, mean) | second, cache hit (µs, mean) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    let mib = |kib: u64| kib as f64 / 1024.0;
    let (rss0, hwm0) = rss_kib();
    println!("| 0 | {:.1} | {:.1} | 0 | | |", mib(rss0), mib(hwm0));
    // The first checkpoint past 2x the cache size is where the cache is full and every
    // steady-state allocation has been seen: the flatness baseline.
    let checkpoints: Vec<u64> = [
        10_000, 20_000, 30_000, 50_000, 100_000, 250_000, 500_000, 750_000, 1_000_000,
    ]
    .into_iter()
    .filter(|c| *c < total)
    .chain([total])
    .collect();
    let baseline_at = checkpoints
        .iter()
        .copied()
        .find(|c| *c >= 20_000)
        .unwrap_or(total);
    let started = Instant::now();
    let mut done = 0;
    let mut baseline = 0;
    let mut last = 0;
    for checkpoint in checkpoints {
        let mut workers = Vec::new();
        for w in 0..WORKERS {
            let (auth, signer) = (auth.clone(), signer.clone());
            let sessions = options.sessions;
            let range = done..checkpoint;
            workers.push(tokio::spawn(async move {
                // Time spent in the first (miss) and second (hit) verification.
                let mut spent = [Duration::ZERO; 2];
                for n in range.filter(|n| n % WORKERS == w) {
                    let token = signer.token(n)?;
                    let cookie = sessions.then(|| signer.session_cookie(&token, n));
                    for slot in &mut spent {
                        let started = Instant::now();
                        let fail = |e: supabase_ssr::AuthError| format!("token {n}: {e}");
                        if let Some(cookie) = &cookie {
                            auth.server_client(CookieJar::from_cookie_header(cookie))
                                .get_session()
                                .await
                                .map_err(fail)?
                                .ok_or_else(|| format!("token {n}: no session read"))?;
                        } else {
                            auth.server_client(CookieJar::default())
                                .verify_token(&token)
                                .await
                                .map_err(fail)?;
                        }
                        *slot += started.elapsed();
                    }
                }
                Ok::<_, String>(spent)
            }));
        }
        let mut spent = [Duration::ZERO; 2];
        for worker in workers {
            let [miss, hit] = worker.await.map_err(|e| e.to_string())??;
            spent[0] += miss;
            spent[1] += hit;
        }
        let count = (checkpoint - done) as f64;
        let per_token_us = |d: Duration| d.as_secs_f64() * 1e6 / count;
        done = checkpoint;
        let (rss, hwm) = rss_kib();
        println!(
            "| {checkpoint} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            mib(rss),
            mib(hwm),
            started.elapsed().as_secs_f64(),
            per_token_us(spent[0]),
            per_token_us(spent[1]),
        );
        if checkpoint == baseline_at {
            baseline = rss;
        }
        last = rss;
    }
    server.abort();
    let growth = if baseline > 0 {
        (last as f64 - baseline as f64) / baseline as f64 * 100.0
    } else {
        f64::NAN
    };
    println!(
        "\nVmRSS after {total} tokens vs after {baseline_at} (cache full): {:+.1}% (target within 10%: {})",
        growth,
        verdict(growth.abs() <= 10.0)
    );
    Ok(())
}
