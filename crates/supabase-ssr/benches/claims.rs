//! `get_claims()` on the request path, against a warm JWKS cache: with the verified-token
//! cache hit, with a full cache missed (a signature check, then the oldest entry rebuilt
//! for the new token), with the cache turned off (a signature check every time), and the
//! bare signature check alone, for ES256, RS256 and EdDSA, side by side.
//!
//! Each `get_claims` iteration is a whole request's work: parse the `Cookie` header,
//! make the per-request client, read the session, verify the access token.
//!
//! `cargo bench -p supabase-ssr --bench claims`
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ED25519, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256,
    UnparsedPublicKey, VerificationAlgorithm,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::Value;
use supabase_auth_emulator::{Emulator, EmulatorConfig, SigningAlg};
use supabase_ssr::cookies::CookieJar;
use supabase_ssr::{SupabaseAuth, SupabaseAuthBuilder};

/// Sessions taken in turn by the miss benchmark, and the size of its cache: each token
/// comes back after 63 others went through a 16-entry cache, so every call misses.
const MISS_POOL: usize = 64;
const MISS_CACHE: usize = 16;

struct Setup {
    /// Keeps the emulator (and so the JWKS endpoint) alive.
    _emulator: Emulator,
    cached: SupabaseAuth,
    uncached: SupabaseAuth,
    /// A cache of `MISS_CACHE` entries, for `MISS_POOL` sessions taken in turn.
    small_cache: SupabaseAuth,
    cookie_header: String,
    /// The `Cookie` headers of `MISS_POOL` sessions with distinct access tokens.
    pool: Vec<String>,
    access_token: String,
    jwk: Value,
}

async fn setup(alg: SigningAlg) -> Setup {
    let emulator = EmulatorConfig::default()
        .signing_alg(alg)
        .start()
        .await
        .unwrap();
    emulator
        .create_user("bench@example.com", "bench-password")
        .await
        .unwrap();
    let build = |configure: fn(SupabaseAuthBuilder) -> SupabaseAuthBuilder| {
        configure(SupabaseAuth::builder(
            emulator.url(),
            emulator.publishable_key(),
        ))
        .build()
        .unwrap()
    };
    let cached = build(|b| b);
    let uncached = build(SupabaseAuthBuilder::disable_verified_token_cache);
    let small_cache = build(|b| b.verified_token_cache(MISS_CACHE));
    let jar = Arc::new(CookieJar::default());
    let session = cached
        .server_client(jar.clone())
        .sign_in_with_password("bench@example.com", "bench-password")
        .await
        .unwrap();
    let cookie_header = jar.cookie_header();
    // One session per refresh, each after the emulator's clock moved a second (so the
    // access tokens differ in `iat` and `exp`).
    let mut pool = Vec::new();
    let mut tokens = std::collections::HashSet::new();
    let pool_jar = Arc::new(CookieJar::from_cookie_header(&cookie_header));
    let refreshing = small_cache.server_client(pool_jar.clone());
    for _ in 0..MISS_POOL {
        emulator.advance_clock(Duration::from_secs(1));
        let session = refreshing.refresh_session().await.unwrap();
        tokens.insert(session.access_token().to_owned());
        pool.push(pool_jar.cookie_header());
    }
    assert_eq!(
        tokens.len(),
        MISS_POOL,
        "every access token of the pool differs"
    );
    // Warm the JWKS caches (and the token cache) once.
    for auth in [&cached, &uncached, &small_cache] {
        let claims = auth
            .server_client(CookieJar::from_cookie_header(&cookie_header))
            .get_claims()
            .await
            .unwrap();
        assert!(claims.is_some());
    }
    let kid = emulator.signing_kid().unwrap();
    let jwk = emulator.jwks()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap()
        .clone();
    Setup {
        _emulator: emulator,
        cached,
        uncached,
        small_cache,
        cookie_header,
        pool,
        access_token: session.access_token().to_owned(),
        jwk,
    }
}

fn b64(value: &Value) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(value.as_str().unwrap()).unwrap()
}

/// DER of an INTEGER or SEQUENCE with its content.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn der_uint(bytes: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    let mut content = Vec::new();
    if trimmed.first().is_some_and(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend(trimmed);
    der(0x02, &content)
}

/// The public key bytes aws-lc verifies with, and its algorithm.
fn public_key(jwk: &Value) -> (&'static dyn VerificationAlgorithm, Vec<u8>) {
    match jwk["kty"].as_str().unwrap() {
        "EC" => {
            let mut point = vec![4u8];
            point.extend(b64(&jwk["x"]));
            point.extend(b64(&jwk["y"]));
            (&ECDSA_P256_SHA256_FIXED, point)
        }
        "RSA" => {
            // PKCS#1 RSAPublicKey: SEQUENCE { n INTEGER, e INTEGER }.
            let mut body = der_uint(&b64(&jwk["n"]));
            body.extend(der_uint(&b64(&jwk["e"])));
            (&RSA_PKCS1_2048_8192_SHA256, der(0x30, &body))
        }
        "OKP" => (&ED25519, b64(&jwk["x"])),
        other => panic!("unexpected kty {other}"),
    }
}

fn get_claims(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    for (label, alg) in [
        ("ES256", SigningAlg::Es256),
        ("RS256", SigningAlg::Rs256),
        ("EdDSA", SigningAlg::EdDsa),
    ] {
        let setup = rt.block_on(setup(alg));
        let (signing_input, signature) = setup.access_token.rsplit_once('.').unwrap();
        let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
        let (algorithm, key_bytes) = public_key(&setup.jwk);
        let parsed = ParsedPublicKey::new(algorithm, &key_bytes).unwrap();
        let unparsed = UnparsedPublicKey::new(algorithm, &key_bytes);
        parsed
            .verify_sig(signing_input.as_bytes(), &signature)
            .unwrap();

        let mut group = c.benchmark_group(format!("get_claims/{label}"));
        for (name, auth) in [("cache_hit", &setup.cached), ("cache_off", &setup.uncached)] {
            group.bench_function(name, |b| {
                b.to_async(&rt).iter(|| async {
                    let jar = CookieJar::from_cookie_header(black_box(&setup.cookie_header));
                    let claims = auth.server_client(jar).get_claims().await.unwrap();
                    black_box(claims.unwrap());
                });
            });
        }
        // A full cache missed: the 64 sessions in turn through a 16-entry cache.
        let next = AtomicUsize::new(0);
        group.bench_function("cache_miss", |b| {
            b.to_async(&rt).iter(|| async {
                let n = next.fetch_add(1, Ordering::Relaxed) % MISS_POOL;
                let jar = CookieJar::from_cookie_header(black_box(&setup.pool[n]));
                let claims = setup.small_cache.server_client(jar).get_claims().await;
                black_box(claims.unwrap().unwrap());
            });
        });
        // The floor a cache miss is measured against: the signature check alone, with the
        // key parsed once (and, for comparison, parsed on every call).
        group.bench_function("signature_only", |b| {
            b.iter(|| {
                parsed
                    .verify_sig(black_box(signing_input.as_bytes()), black_box(&signature))
                    .unwrap();
            });
        });
        group.bench_function("signature_only_key_parsed_per_call", |b| {
            b.iter(|| {
                unparsed
                    .verify(black_box(signing_input.as_bytes()), black_box(&signature))
                    .unwrap();
            });
        });
        group.finish();
    }
}

criterion_group!(benches, get_claims);
criterion_main!(benches);
