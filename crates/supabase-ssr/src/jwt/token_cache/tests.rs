//! The verified-token cache, seen through `JwtVerifier::verify` with real ES256 keys, an
//! in-memory JWKS that counts its fetches, and a manual clock. Signature checks are
//! counted by the verifier, so a hit is told from a verification exactly.
#![allow(clippy::unwrap_used)]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

use super::TokenCache;
use crate::clock::ManualClock;
use crate::jwt::{
    FallbackReason, JwksFetchError, JwksSource, JwtConfig, JwtError, JwtVerifier, Verification,
};

const T0_MS: i64 = 1_760_000_000_000;
const T0: i64 = T0_MS / 1000;
const ISS: &str = "https://abc.supabase.co/auth/v1";

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

struct Key {
    kid: &'static str,
    encoding: EncodingKey,
    jwk: Value,
}

fn es256(kid: &'static str) -> Key {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
    let point = pair.public_key().as_ref();
    Key {
        kid,
        encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
        jwk: json!({
            "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid,
            "x": b64(&point[1..33]), "y": b64(&point[33..]),
        }),
    }
}

/// Two published keys and a symmetric secret, generated once per test binary.
struct Keys {
    a: Key,
    b: Key,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        a: es256("a"),
        b: es256("b"),
    })
}

fn sign(encoding: &EncodingKey, alg: Algorithm, header: &Value, payload: &Value) -> String {
    let message = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    );
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), encoding, alg).unwrap();
    format!("{message}.{signature}")
}

/// A Supabase-shaped token signed by `key`, valid from T0 for `ttl` seconds; `n` makes
/// it distinct.
fn token(key: &Key, n: u64, ttl: i64) -> String {
    let header = json!({"alg": "ES256", "kid": key.kid, "typ": "JWT"});
    let payload = json!({
        "iss": ISS, "sub": format!("user-{n}"), "aud": "authenticated",
        "exp": T0 + ttl, "iat": T0, "role": "authenticated", "aal": "aal1",
        "session_id": format!("session-{n}"), "is_anonymous": false,
    });
    sign(&key.encoding, Algorithm::ES256, &header, &payload)
}

fn jwks(keys: &[&Key]) -> Vec<u8> {
    let keys: Vec<&Value> = keys.iter().map(|k| &k.jwk).collect();
    json!({ "keys": keys }).to_string().into_bytes()
}

/// An in-memory JWKS endpoint whose answer can change; fetches are counted.
#[derive(Default)]
struct Source {
    body: Mutex<Option<Vec<u8>>>,
    calls: AtomicUsize,
}

impl Source {
    fn serving(body: Vec<u8>) -> Arc<Self> {
        let source = Arc::new(Self::default());
        source.serve(Some(body));
        source
    }

    fn serve(&self, body: Option<Vec<u8>>) {
        *self.body.lock().unwrap() = body;
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl JwksSource for Source {
    fn fetch(&self) -> Pin<Box<dyn Future<Output = Result<Vec<u8>, JwksFetchError>> + Send + '_>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let body = self.body.lock().unwrap().clone();
            body.ok_or_else(|| JwksFetchError::new("503"))
        })
    }
}

fn config(entries: usize) -> JwtConfig {
    let mut config = JwtConfig::for_auth_url(ISS);
    config.verified_token_cache_entries = entries;
    config
}

fn verifier(config: JwtConfig, source: &Arc<Source>) -> (JwtVerifier, ManualClock) {
    let clock = ManualClock::new(T0_MS);
    let verifier = JwtVerifier::new(config, source.clone(), Arc::new(clock.clone()));
    (verifier, clock)
}

fn verified(outcome: Result<Verification, JwtError>) -> crate::jwt::Claims {
    match outcome {
        Ok(Verification::Verified(claims)) => claims.into_claims(),
        other => panic!("expected Verified, got {other:?}"),
    }
}

fn cache(verifier: &JwtVerifier) -> &TokenCache {
    verifier.token_cache().unwrap()
}

#[tokio::test]
async fn a_hit_skips_the_signature_and_gives_the_same_claims() {
    let source = Source::serving(jwks(&[&keys().a]));
    let (verifier, clock) = verifier(config(100), &source);
    let t = token(&keys().a, 1, 3600);

    let first = verified(verifier.verify(&t).await);
    assert_eq!(verifier.signature_checks(), 1);
    clock.advance_millis(60_000);
    for _ in 0..5 {
        assert_eq!(verified(verifier.verify(&t).await), first);
    }
    assert_eq!(
        verifier.signature_checks(),
        1,
        "five hits, no signature check"
    );
    assert_eq!(source.calls(), 1);
    assert_eq!(cache(&verifier).len(), 1);
}

#[tokio::test]
async fn expiry_is_checked_again_on_every_hit() {
    let source = Source::serving(jwks(&[&keys().a]));
    let (verifier, clock) = verifier(config(100), &source);
    let t = token(&keys().a, 1, 60);
    verified(verifier.verify(&t).await);

    clock.set_millis((T0 + 59) * 1000 + 999);
    verified(verifier.verify(&t).await);
    assert_eq!(verifier.signature_checks(), 1);
    // auth-js: `exp <= now` is expired.
    clock.set_millis((T0 + 60) * 1000);
    assert_eq!(verifier.verify(&t).await.unwrap_err(), JwtError::Expired);
    assert_eq!(cache(&verifier).len(), 0, "the expired entry is dropped");
    assert_eq!(verifier.verify(&t).await.unwrap_err(), JwtError::Expired);
    assert_eq!(
        verifier.signature_checks(),
        1,
        "expiry is decided before the signature"
    );
}

#[tokio::test]
async fn leeway_applies_to_hits_as_to_verifications() {
    let source = Source::serving(jwks(&[&keys().a]));
    let mut cfg = config(100);
    cfg.leeway_secs = 5;
    let (verifier, clock) = verifier(cfg, &source);
    let t = token(&keys().a, 1, 60);
    verified(verifier.verify(&t).await);
    clock.set_millis((T0 + 64) * 1000);
    verified(verifier.verify(&t).await);
    clock.set_millis((T0 + 65) * 1000);
    assert_eq!(verifier.verify(&t).await.unwrap_err(), JwtError::Expired);
    assert_eq!(verifier.signature_checks(), 1);
}

#[tokio::test]
async fn entries_older_than_the_maximum_age_are_verified_again() {
    let source = Source::serving(jwks(&[&keys().a]));
    let mut cfg = config(100);
    cfg.verified_token_cache_max_age = Duration::from_secs(10);
    let (verifier, clock) = verifier(cfg, &source);
    let t = token(&keys().a, 1, 3600);
    verified(verifier.verify(&t).await);
    clock.advance_millis(9_999);
    verified(verifier.verify(&t).await);
    assert_eq!(verifier.signature_checks(), 1);
    clock.advance_millis(1);
    verified(verifier.verify(&t).await);
    assert_eq!(
        verifier.signature_checks(),
        2,
        "re-verified, and cached anew"
    );
    clock.advance_millis(9_999);
    verified(verifier.verify(&t).await);
    assert_eq!(verifier.signature_checks(), 2);
}

#[tokio::test]
async fn the_cache_holds_at_most_max_entries_and_evicts_the_oldest() {
    let source = Source::serving(jwks(&[&keys().a]));
    let (verifier, _clock) = verifier(config(3), &source);
    let tokens: Vec<String> = (0..5).map(|n| token(&keys().a, n, 3600)).collect();
    for t in &tokens {
        verified(verifier.verify(t).await);
    }
    assert_eq!(verifier.signature_checks(), 5);
    assert_eq!(cache(&verifier).len(), 3);

    // The three newest are hits.
    for t in &tokens[2..] {
        verified(verifier.verify(t).await);
    }
    assert_eq!(verifier.signature_checks(), 5);
    // The oldest was evicted: verified again, and it evicts the next oldest (token 2).
    verified(verifier.verify(&tokens[0]).await);
    assert_eq!(verifier.signature_checks(), 6);
    verified(verifier.verify(&tokens[2]).await);
    assert_eq!(verifier.signature_checks(), 7);
    assert_eq!(cache(&verifier).len(), 3);
}

#[tokio::test]
async fn a_token_whose_key_left_the_jwks_is_dropped() {
    let source = Source::serving(jwks(&[&keys().a, &keys().b]));
    let (verifier, clock) = verifier(config(100), &source);
    let ta = token(&keys().a, 1, 7200);
    let tb = token(&keys().b, 2, 7200);
    verified(verifier.verify(&ta).await);
    verified(verifier.verify(&tb).await);
    assert_eq!(verifier.signature_checks(), 2);

    // Key `a` is revoked; the next fetch happens after the JWKS TTL (10 minutes), on a
    // hit as on a verification.
    source.serve(Some(jwks(&[&keys().b])));
    clock.advance_millis(10 * 60 * 1000);
    match verifier.verify(&ta).await {
        Ok(Verification::NeedsServerCheck { reason, .. }) => {
            assert_eq!(reason, FallbackReason::UnknownKid);
        }
        other => panic!("expected a server check, got {other:?}"),
    }
    assert_eq!(source.calls(), 2, "one refetch");
    assert_eq!(cache(&verifier).len(), 1, "only b's token is left");
    // b's key is unchanged, but the key set changed: b's token is verified once more,
    // then cached under the new key set.
    verified(verifier.verify(&tb).await);
    verified(verifier.verify(&tb).await);
    assert_eq!(verifier.signature_checks(), 3);
    // a's token never comes back from the cache.
    assert!(!verifier.verify(&ta).await.unwrap().is_verified());
    assert_eq!(verifier.signature_checks(), 3);
}

#[tokio::test]
async fn a_refetch_that_changes_nothing_keeps_the_entries() {
    let source = Source::serving(jwks(&[&keys().a]));
    let (verifier, clock) = verifier(config(100), &source);
    let t = token(&keys().a, 1, 7200);
    verified(verifier.verify(&t).await);
    clock.advance_millis(10 * 60 * 1000);
    verified(verifier.verify(&t).await);
    assert_eq!(source.calls(), 2, "the TTL refetch happens on a hit too");
    assert_eq!(verifier.signature_checks(), 1);
}

#[tokio::test]
async fn hits_stop_when_the_jwks_is_unavailable_past_the_stale_limit() {
    let source = Source::serving(jwks(&[&keys().a]));
    let (verifier, clock) = verifier(config(100), &source);
    let t = token(&keys().a, 1, 3 * 3600);
    verified(verifier.verify(&t).await);
    source.serve(None);
    // Within the stale limit (1 hour after the last good fetch), hits keep working.
    clock.advance_millis(59 * 60 * 1000);
    verified(verifier.verify(&t).await);
    assert_eq!(verifier.signature_checks(), 1);
    clock.advance_millis(60 * 1000);
    assert_eq!(
        verifier.verify(&t).await.unwrap_err(),
        JwtError::JwksUnavailable
    );
    assert_eq!(cache(&verifier).len(), 0);
}

#[tokio::test]
async fn a_disabled_cache_never_hits() {
    let source = Source::serving(jwks(&[&keys().a]));
    let (verifier, _clock) = verifier(config(0), &source);
    assert!(verifier.token_cache().is_none());
    let t = token(&keys().a, 1, 3600);
    for _ in 0..3 {
        verified(verifier.verify(&t).await);
    }
    assert_eq!(verifier.signature_checks(), 3);
}

#[tokio::test]
async fn outcomes_that_need_the_auth_server_are_never_cached() {
    let source = Source::serving(jwks(&[&keys().a]));
    let (verifier, _clock) = verifier(config(100), &source);
    let payload = json!({
        "iss": ISS, "sub": "u", "aud": "authenticated", "exp": T0 + 3600, "iat": T0,
    });
    let hs = sign(
        &EncodingKey::from_secret(b"secret"),
        Algorithm::HS256,
        &json!({"alg": "HS256", "typ": "JWT"}),
        &payload,
    );
    let unknown = sign(
        &keys().b.encoding,
        Algorithm::ES256,
        &json!({"alg": "ES256", "kid": "b", "typ": "JWT"}),
        &payload,
    );
    for t in [&hs, &unknown, &hs, &unknown] {
        assert!(!verifier.verify(t).await.unwrap().is_verified());
    }
    assert_eq!(cache(&verifier).len(), 0);
    assert_eq!(verifier.signature_checks(), 0);
}

#[tokio::test]
async fn a_different_token_with_the_same_signature_is_not_a_hit() {
    let source = Source::serving(jwks(&[&keys().a]));
    let (verifier, _clock) = verifier(config(100), &source);
    let t = token(&keys().a, 1, 3600);
    verified(verifier.verify(&t).await);
    // Same header and signature, another payload: same hash bucket, other bytes.
    let other = token(&keys().a, 2, 3600);
    let (head, _) = other.rsplit_once('.').unwrap();
    let (_, signature) = t.rsplit_once('.').unwrap();
    let forged = format!("{head}.{signature}");
    assert_eq!(
        verifier.verify(&forged).await.unwrap_err(),
        JwtError::InvalidSignature
    );
    assert_eq!(verifier.signature_checks(), 2);
    assert_eq!(cache(&verifier).len(), 1);
}

#[test]
fn the_ring_reuses_slots_and_updates_a_token_in_place() {
    let cache = TokenCache::new(2, Duration::from_secs(60));
    let claims = crate::jwt::Claims::default;
    cache.insert("x.y.1", "k", claims(), 0, 0);
    cache.insert("x.y.1", "k", claims(), 1, 0);
    assert_eq!(cache.len(), 1, "the same token takes one slot");
    assert_eq!(cache.get("x.y.1", 0).unwrap().generation, 1);
    cache.insert("x.y.2", "k", claims(), 0, 0);
    cache.insert("x.y.3", "k", claims(), 0, 0);
    assert_eq!(cache.len(), 2);
    assert!(cache.get("x.y.1", 0).is_none());
    assert!(cache.get("x.y.2", 0).is_some() && cache.get("x.y.3", 0).is_some());
    cache.remove("x.y.2");
    assert_eq!(cache.len(), 1);
    // Past the maximum age: gone on lookup.
    assert!(cache.get("x.y.3", 60_000).is_none());
    assert_eq!(cache.len(), 0);
    // Ten thousand distinct tokens through a two-slot cache: still two.
    for n in 0..10_000 {
        cache.insert(&format!("x.y.{n}"), "k", claims(), 0, 0);
    }
    assert_eq!(cache.len(), 2);
}

/// Claims with every buffer-holding field set, distinct for each `n`.
fn full_claims(n: u32) -> crate::jwt::Claims {
    crate::jwt::Claims::from_payload_json(
        json!({
            "iss": ISS, "sub": format!("user-{n}"), "aud": "authenticated",
            "exp": T0 + 3600, "iat": T0, "email": format!("u{n}@example.com"), "phone": "",
            "app_metadata": {"provider": "email", "providers": ["email", format!("p{n}")]},
            "user_metadata": {"name": format!("name {n}")},
            "role": "authenticated", "aal": "aal1",
            "amr": [{"method": "password", "timestamp": T0}],
            "session_id": format!("session-{n}"), "is_anonymous": false, "tenant": format!("t{n}"),
        })
        .to_string(),
    )
    .unwrap()
}

#[test]
fn a_full_cache_rebuilds_its_oldest_entry_in_place_unless_a_request_holds_it() {
    let cache = TokenCache::new(2, Duration::from_secs(60));
    let first = cache.insert("x.y.1", "k", full_claims(1), 0, 0);
    let first_at = Arc::as_ptr(&first);
    let first_sub_at = first.sub.as_ref().unwrap().as_ptr();
    let first_provider_at = first.app_metadata["providers"][1]
        .as_str()
        .unwrap()
        .as_ptr();
    drop(first);
    cache.insert("x.y.2", "k", full_claims(2), 0, 0);

    // The third token evicts the first, whose claims nobody holds: written in place,
    // down to the strings inside `app_metadata`.
    let third = cache.insert("x.y.3", "other-kid", full_claims(3), 5, 7);
    assert_eq!(*third, full_claims(3));
    assert_eq!(Arc::as_ptr(&third), first_at);
    assert_eq!(third.sub.as_ref().unwrap().as_ptr(), first_sub_at);
    assert_eq!(
        third.app_metadata["providers"][1]
            .as_str()
            .unwrap()
            .as_ptr(),
        first_provider_at
    );
    let hit = cache.get("x.y.3", 7).unwrap();
    assert!(Arc::ptr_eq(&hit.claims, &third));
    assert_eq!((&*hit.kid, hit.generation), ("other-kid", 5));
    assert!(cache.get("x.y.1", 7).is_none());

    // The fourth evicts the second while a request still holds its claims: those stay
    // as they were, and the new entry gets its own.
    let held = cache.get("x.y.2", 7).unwrap().claims;
    let fourth = cache.insert("x.y.4", "k", full_claims(4), 0, 7);
    assert_eq!(*held, full_claims(2));
    assert_eq!(*fourth, full_claims(4));
    assert!(!Arc::ptr_eq(&held, &fourth));
    assert!(cache.get("x.y.2", 7).is_none());
    assert!(Arc::ptr_eq(&cache.get("x.y.4", 7).unwrap().claims, &fourth));
}
