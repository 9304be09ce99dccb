//! JWKS cache behaviour seen through `verify`: TTL, cooldown, rotation, outages, single
//! flight. Every expectation counts the fetches exactly.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::support::*;
use crate::jwt::{FallbackReason, JwtError, Verification};

fn fallback(outcome: Result<Verification, JwtError>) -> FallbackReason {
    match outcome {
        Ok(Verification::NeedsServerCheck { reason, .. }) => reason,
        other => panic!("expected NeedsServerCheck, got {other:?}"),
    }
}

/// A token signed by a key the JWKS does not list.
fn stranger_token(kid: &str) -> String {
    es256_key(kid).token(&payload())
}

#[tokio::test]
async fn unknown_kid_refetches_once_per_cooldown() {
    let source = FakeSource::serving(all_keys_jwks());
    let (verifier, clock) = verifier(&source);
    assert!(
        verifier
            .verify(&keys().es.token(&payload()))
            .await
            .unwrap()
            .is_verified()
    );
    assert_eq!(source.calls(), 1);

    clock.advance_millis(30_000);
    let outcome = verifier.verify(&stranger_token("new-1")).await;
    assert_eq!(fallback(outcome), FallbackReason::UnknownKid);
    assert_eq!(source.calls(), 2, "exactly one refetch");

    // Another unknown kid inside the cooldown: no fetch at all.
    clock.advance_millis(29_999);
    let outcome = verifier.verify(&stranger_token("new-2")).await;
    assert_eq!(fallback(outcome), FallbackReason::UnknownKid);
    assert_eq!(source.calls(), 2);
    // Known kids are unaffected.
    assert!(
        verifier
            .verify(&keys().rs.token(&payload()))
            .await
            .unwrap()
            .is_verified()
    );
    assert_eq!(source.calls(), 2);

    // The cooldown is over: one more refetch.
    clock.advance_millis(1);
    let outcome = verifier.verify(&stranger_token("new-3")).await;
    assert_eq!(fallback(outcome), FallbackReason::UnknownKid);
    assert_eq!(source.calls(), 3);
}

#[tokio::test]
async fn unknown_kid_right_after_a_fetch_does_not_refetch() {
    let source = FakeSource::serving(all_keys_jwks());
    let (verifier, clock) = verifier(&source);
    assert!(
        verifier
            .verify(&keys().es.token(&payload()))
            .await
            .unwrap()
            .is_verified()
    );
    clock.advance_millis(1_000);
    let outcome = verifier.verify(&stranger_token("new-1")).await;
    assert_eq!(fallback(outcome), FallbackReason::UnknownKid);
    assert_eq!(source.calls(), 1);
}

#[tokio::test]
async fn unknown_kid_on_a_cold_cache_fetches_once() {
    let source = FakeSource::serving(all_keys_jwks());
    let (verifier, _clock) = verifier(&source);
    let outcome = verifier.verify(&stranger_token("new-1")).await;
    assert_eq!(fallback(outcome), FallbackReason::UnknownKid);
    assert!(
        verifier
            .verify(&keys().ed.token(&payload()))
            .await
            .unwrap()
            .is_verified()
    );
    assert_eq!(source.calls(), 1);
}

#[tokio::test]
async fn rotated_in_kid_is_picked_up_by_a_refetch() {
    let k = keys();
    let source = FakeSource::serving(jwks(&[&k.es.jwk]));
    let (verifier, clock) = verifier(&source);
    assert!(
        verifier
            .verify(&k.es.token(&payload()))
            .await
            .unwrap()
            .is_verified()
    );
    assert_eq!(verifier.jwks().generation(), 1);

    // The project rotates: the RSA key is published and starts signing.
    source.serve(jwks(&[&k.es.jwk, &k.rs.jwk]));
    clock.advance_millis(30_000);
    assert_eq!(
        verifier.verify(&k.rs.token(&payload())).await,
        Ok(Verification::Verified(crate::jwt::VerifiedClaims::new(
            std::sync::Arc::new(
                crate::jwt::Claims::from_payload_json(payload().to_string()).unwrap()
            )
        )))
    );
    assert_eq!(source.calls(), 2);
    assert_eq!(verifier.jwks().generation(), 2);
    assert!(verifier.jwks().has_kid("rs-1"));
}

#[tokio::test]
async fn revoked_kid_is_dropped_by_the_next_fetch() {
    let k = keys();
    let source = FakeSource::serving(all_keys_jwks());
    let (verifier, clock) = verifier(&source);
    assert!(
        verifier
            .verify(&k.rs.token(&payload()))
            .await
            .unwrap()
            .is_verified()
    );
    source.serve(jwks(&[&k.es.jwk]));
    clock.advance_millis(minutes(10));
    let outcome = verifier.verify(&k.rs.token(&payload())).await;
    assert_eq!(fallback(outcome), FallbackReason::UnknownKid);
    assert_eq!(source.calls(), 2);
    assert!(!verifier.jwks().has_kid("rs-1"));
}

#[tokio::test]
async fn keys_are_refetched_after_the_ttl_and_generation_only_moves_on_change() {
    let source = FakeSource::serving(all_keys_jwks());
    let (verifier, clock) = verifier(&source);
    let token = keys().es.token(&payload());
    assert!(verifier.verify(&token).await.unwrap().is_verified());
    clock.advance_millis(minutes(10) - 1);
    assert!(verifier.verify(&token).await.unwrap().is_verified());
    assert_eq!(source.calls(), 1);
    clock.advance_millis(1);
    assert!(verifier.verify(&token).await.unwrap().is_verified());
    assert_eq!(source.calls(), 2);
    // Same keys (re-serialized in another order): same generation.
    assert_eq!(verifier.jwks().generation(), 1);
    let k = keys();
    source.serve(jwks(&[&k.ed.jwk, &k.rs.jwk, &k.es.jwk]));
    clock.advance_millis(minutes(10));
    assert!(verifier.verify(&token).await.unwrap().is_verified());
    assert_eq!((source.calls(), verifier.jwks().generation()), (3, 1));
}

#[tokio::test]
async fn jwks_down_on_first_use_is_retried_after_1_2_4_s_then_every_cooldown() {
    let source = FakeSource::down();
    let (verifier, clock) = verifier(&source);
    let token = keys().es.token(&payload());
    assert_eq!(
        verifier.verify(&token).await,
        Err(JwtError::JwksUnavailable)
    );
    assert!(JwtError::JwksUnavailable.is_retryable());
    assert_eq!(source.calls(), 1);

    // The waits after each failure in a row: 1 s, 2 s, 4 s, ... up to the 30 s cooldown.
    // Just before each, no fetch; at it, one.
    for (wait, calls_after) in [
        (1_000, 2),
        (2_000, 3),
        (4_000, 4),
        (8_000, 5),
        (16_000, 6),
        (30_000, 7),
        (30_000, 8),
    ] {
        clock.advance_millis(wait - 1);
        assert_eq!(
            verifier.verify(&token).await,
            Err(JwtError::JwksUnavailable)
        );
        assert_eq!(source.calls(), calls_after - 1, "before the {wait} ms wait");
        clock.advance_millis(1);
        assert_eq!(
            verifier.verify(&token).await,
            Err(JwtError::JwksUnavailable)
        );
        assert_eq!(source.calls(), calls_after, "after the {wait} ms wait");
    }

    // Back: the next fetch (after the current 30 s wait) verifies, and a later failure
    // starts again from 1 s.
    source.serve(all_keys_jwks());
    clock.advance_millis(30_000);
    assert!(verifier.verify(&token).await.unwrap().is_verified());
    assert_eq!(source.calls(), 9);
}

#[tokio::test]
async fn unparseable_jwks_counts_as_unavailable() {
    for body in [&b"<html>502</html>"[..], b"{}", b"{\"keys\":{}}", b"[]"] {
        let source = FakeSource::serving(body.to_vec());
        let (verifier, _clock) = verifier(&source);
        let token = keys().es.token(&payload());
        assert_eq!(
            verifier.verify(&token).await,
            Err(JwtError::JwksUnavailable)
        );
    }
}

#[tokio::test]
async fn stale_keys_verify_until_stale_max_then_unavailable() {
    let source = FakeSource::serving(all_keys_jwks());
    let (verifier, clock) = verifier(&source);
    let token = keys().es.token(&payload_with(json!({"exp": T0 + 7200})));
    assert!(verifier.verify(&token).await.unwrap().is_verified());

    source.go_down();
    clock.set_millis(T0_MS + minutes(10));
    assert!(verifier.verify(&token).await.unwrap().is_verified());
    assert_eq!(source.calls(), 2, "TTL expiry tried a refetch");

    clock.set_millis(T0_MS + minutes(60) - 1);
    assert!(verifier.verify(&token).await.unwrap().is_verified());
    assert_eq!(source.calls(), 3);

    // Past stale_max, and inside the cooldown of the last attempt: no fetch, no key.
    clock.set_millis(T0_MS + minutes(60));
    assert_eq!(
        verifier.verify(&token).await,
        Err(JwtError::JwksUnavailable)
    );
    assert_eq!(source.calls(), 3);
    // After the cooldown the outage still fails, with one fetch.
    clock.advance_millis(30_000);
    assert_eq!(
        verifier.verify(&token).await,
        Err(JwtError::JwksUnavailable)
    );
    assert_eq!(source.calls(), 4);

    // Recovery.
    source.serve(all_keys_jwks());
    clock.advance_millis(30_000);
    assert!(verifier.verify(&token).await.unwrap().is_verified());
    assert_eq!(source.calls(), 5);
}

#[tokio::test]
async fn empty_jwks_keeps_previous_keys_and_otherwise_means_server_check() {
    let source = FakeSource::serving(jwks(&[]));
    let (verifier, clock) = verifier(&source);
    let token = keys().es.token(&payload_with(json!({"exp": T0 + 7200})));
    // Cold cache and an empty JWKS (an HS256-only project): the server decides.
    assert_eq!(
        fallback(verifier.verify(&token).await),
        FallbackReason::UnknownKid
    );
    assert_eq!(source.calls(), 1);

    source.serve(all_keys_jwks());
    clock.advance_millis(30_000);
    assert!(verifier.verify(&token).await.unwrap().is_verified());

    // An empty answer later does not wipe the keys: they stay usable as stale keys.
    source.serve(jwks(&[]));
    clock.advance_millis(minutes(10));
    assert!(verifier.verify(&token).await.unwrap().is_verified());
    assert_eq!(source.calls(), 3);
    assert_eq!(verifier.jwks().generation(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_verifications_on_a_cold_cache_share_one_fetch() {
    let source = FakeSource::serving(all_keys_jwks());
    source.set_delay(Duration::from_millis(50));
    let (verifier, _clock) = verifier(&source);
    let verifier = Arc::new(verifier);
    let k = keys();
    let tokens = [
        k.es.token(&payload()),
        k.rs.token(&payload()),
        k.ed.token(&payload()),
    ];
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let verifier = Arc::clone(&verifier);
            let token = tokens[i % 3].clone();
            tokio::spawn(async move { verifier.verify(&token).await })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap().unwrap().is_verified());
    }
    assert_eq!(source.calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_unknown_kids_share_one_refetch() {
    let source = FakeSource::serving(all_keys_jwks());
    let (verifier, clock) = verifier(&source);
    assert!(
        verifier
            .verify(&keys().es.token(&payload()))
            .await
            .unwrap()
            .is_verified()
    );
    source.set_delay(Duration::from_millis(50));
    clock.advance_millis(30_000);
    let verifier = Arc::new(verifier);
    let stranger = stranger_token("new-1");
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let verifier = Arc::clone(&verifier);
            let token = stranger.clone();
            tokio::spawn(async move { verifier.verify(&token).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(fallback(task.await.unwrap()), FallbackReason::UnknownKid);
    }
    assert_eq!(source.calls(), 2);
}

#[tokio::test]
async fn unsupported_published_keys_go_to_the_server_without_refetching() {
    let k = keys();
    let oct = json!({"kty": "oct", "kid": "oct-1", "alg": "HS256", "k": b64(b"shared-secret")});
    let enc = {
        let mut jwk = k.ed.jwk.clone();
        jwk["kid"] = json!("enc-1");
        jwk["use"] = json!("enc");
        jwk
    };
    let no_verify = {
        let mut jwk = k.rs.jwk.clone();
        jwk["kid"] = json!("sign-only");
        jwk["key_ops"] = json!(["sign"]);
        jwk
    };
    let source = FakeSource::serving(jwks(&[&oct, &enc, &no_verify, &k.es.jwk]));
    let (verifier, clock) = verifier(&source);
    assert!(
        verifier
            .verify(&k.es.token(&payload()))
            .await
            .unwrap()
            .is_verified()
    );
    clock.advance_millis(minutes(1));

    // An HS256 token signed with the oct key's secret is never verified locally.
    let hs = sign_with(
        &jsonwebtoken::EncodingKey::from_secret(b"shared-secret"),
        jsonwebtoken::Algorithm::HS256,
        &json!({"alg": "HS256", "kid": "oct-1"}),
        &payload(),
    );
    assert_eq!(
        fallback(verifier.verify(&hs).await),
        FallbackReason::SymmetricAlgorithm
    );
    // Tokens naming those kids with an asymmetric alg are not verified with them either.
    let cases = [("oct-1", &k.es), ("enc-1", &k.ed), ("sign-only", &k.rs)];
    for (kid, key) in cases {
        let header = json!({"alg": alg_name(key.alg), "kid": kid});
        let token = key.sign(&header, &payload());
        assert_eq!(
            fallback(verifier.verify(&token).await),
            FallbackReason::UnsupportedKey
        );
    }
    assert_eq!(source.calls(), 1);
}

/// A session's memo answers as a verified-token cache hit would, and only then: the
/// claims of its token while they are within `exp` and the JWKS it was verified under is
/// still fresh; nothing before the token verified, nor when the cache is off.
#[tokio::test]
async fn a_memo_answers_only_what_a_cache_hit_would() {
    let source = FakeSource::serving(all_keys_jwks());
    let (verifier, clock) = verifier(&source);
    let short = keys().es.token(&payload_with(json!({"exp": T0 + 60})));
    let long = keys().es.token(&payload());
    let (short_memo, long_memo) = (
        crate::jwt::VerifiedMemo::default(),
        crate::jwt::VerifiedMemo::default(),
    );
    verifier.fill_memo(&short_memo, &short);
    assert!(
        verifier.verified_from_memo(&short_memo).is_none(),
        "nothing before the token verified"
    );
    for (token, memo) in [(&short, &short_memo), (&long, &long_memo)] {
        assert!(verifier.verify(token).await.unwrap().is_verified());
        verifier.fill_memo(memo, token);
    }
    assert_eq!(
        verifier.verified_from_memo(&short_memo).unwrap().exp,
        Some(T0 + 60)
    );
    assert_eq!(source.calls(), 1);

    // At `exp` the claims are no longer answered; the other token's still are.
    clock.advance_millis(60_000);
    assert!(verifier.verified_from_memo(&short_memo).is_none());
    assert!(verifier.verified_from_memo(&long_memo).is_some());

    // Past the JWKS's TTL (10 minutes) a hit would need a lookup: the memo steps aside,
    // and no fetch happens from here.
    clock.advance_millis(minutes(10));
    assert!(verifier.verified_from_memo(&long_memo).is_none());
    assert_eq!(source.calls(), 1);

    // With the verified-token cache off, no memo is kept.
    let mut off_config = config();
    off_config.verified_token_cache_entries = 0;
    let (off, _) = verifier_with(off_config, &source);
    let off_memo = crate::jwt::VerifiedMemo::default();
    assert!(off.verify(&long).await.unwrap().is_verified());
    off.fill_memo(&off_memo, &long);
    assert!(off.verified_from_memo(&off_memo).is_none());
}
