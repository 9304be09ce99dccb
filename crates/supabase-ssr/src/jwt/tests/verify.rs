//! Outcomes of `JwtVerifier::verify` for one token at a time.

use serde_json::json;

use super::support::*;
use crate::jwt::{Claims, FallbackReason, JwtError, Verification};

fn claims_of(payload: &serde_json::Value) -> Claims {
    Claims::from_payload_json(payload.to_string()).unwrap()
}

fn verified_of(payload: &serde_json::Value) -> crate::jwt::VerifiedClaims {
    crate::jwt::VerifiedClaims::new(std::sync::Arc::new(claims_of(payload)))
}

#[tokio::test]
async fn valid_es256_token_is_verified() {
    let source = FakeSource::serving(all_keys_jwks());
    let (verifier, _clock) = verifier(&source);
    let token = keys().es.token(&payload());
    assert_eq!(
        verifier.verify(&token).await,
        Ok(Verification::Verified(verified_of(&payload())))
    );
    assert_eq!(source.calls(), 1);
}

#[tokio::test]
async fn valid_rs256_token_is_verified() {
    let source = FakeSource::serving(all_keys_jwks());
    let (verifier, _clock) = verifier(&source);
    let token = keys().rs.token(&payload());
    assert_eq!(
        verifier.verify(&token).await,
        Ok(Verification::Verified(verified_of(&payload())))
    );
}

#[tokio::test]
async fn valid_eddsa_token_is_verified() {
    let source = FakeSource::serving(all_keys_jwks());
    let (verifier, _clock) = verifier(&source);
    let token = keys().ed.token(&payload());
    assert_eq!(
        verifier.verify(&token).await,
        Ok(Verification::Verified(verified_of(&payload())))
    );
}

#[tokio::test]
async fn keys_are_fetched_once_for_many_tokens() {
    let source = FakeSource::serving(all_keys_jwks());
    let (verifier, _clock) = verifier(&source);
    let k = keys();
    for key in [&k.es, &k.rs, &k.ed, &k.es] {
        assert!(
            verifier
                .verify(&key.token(&payload()))
                .await
                .unwrap()
                .is_verified()
        );
    }
    assert_eq!(source.calls(), 1);
}

#[tokio::test]
async fn exp_equal_to_now_is_expired() {
    let source = FakeSource::serving(all_keys_jwks());
    let (verifier, clock) = verifier(&source);
    let token = keys().es.token(&payload_with(json!({"exp": T0 + 10})));
    clock.set_millis((T0 + 9) * 1000 + 999);
    assert!(verifier.verify(&token).await.unwrap().is_verified());
    clock.set_millis((T0 + 10) * 1000);
    assert_eq!(verifier.verify(&token).await, Err(JwtError::Expired));
}

#[tokio::test]
async fn leeway_extends_exp_by_exactly_its_seconds() {
    let source = FakeSource::serving(all_keys_jwks());
    let mut config = config();
    config.leeway_secs = 5;
    let (verifier, clock) = verifier_with(config, &source);
    let token = keys().es.token(&payload_with(json!({"exp": T0})));
    clock.set_millis((T0 + 4) * 1000);
    assert!(verifier.verify(&token).await.unwrap().is_verified());
    clock.set_millis((T0 + 5) * 1000);
    assert_eq!(verifier.verify(&token).await, Err(JwtError::Expired));
}

#[tokio::test]
async fn expiry_is_checked_before_anything_else_after_decoding() {
    let source = FakeSource::down();
    let (verifier, _clock) = verifier(&source);
    let expired = payload_with(json!({"exp": T0}));
    // Even where the key could not be fetched, or the token would go to the server.
    assert_eq!(
        verifier.verify(&keys().es.token(&expired)).await,
        Err(JwtError::Expired)
    );
    let hs = sign_with(
        &jsonwebtoken::EncodingKey::from_secret(b"secret"),
        jsonwebtoken::Algorithm::HS256,
        &json!({"alg": "HS256", "typ": "JWT"}),
        &expired,
    );
    assert_eq!(verifier.verify(&hs).await, Err(JwtError::Expired));
    assert_eq!(source.calls(), 0);
}

#[tokio::test]
async fn nbf_in_the_future_is_rejected_and_leeway_applies() {
    let source = FakeSource::serving(all_keys_jwks());
    let token = keys().es.token(&payload_with(json!({"nbf": T0 + 3})));
    let (verifier, _clock) = verifier(&source);
    assert_eq!(verifier.verify(&token).await, Err(JwtError::NotYetValid));

    let mut config = config();
    config.leeway_secs = 3;
    let (verifier, _clock) = verifier_with(config, &source);
    assert!(verifier.verify(&token).await.unwrap().is_verified());

    let now = keys().es.token(&payload_with(json!({"nbf": T0})));
    let (verifier, _clock) = verifier_with(super::support::config(), &source);
    assert!(verifier.verify(&now).await.unwrap().is_verified());
}

#[tokio::test]
async fn missing_or_zero_exp_is_rejected() {
    let source = FakeSource::serving(all_keys_jwks());
    let (verifier, _clock) = verifier(&source);
    for exp in [json!(null), json!(0)] {
        let token = keys().es.token(&payload_with(json!({"exp": exp})));
        assert_eq!(verifier.verify(&token).await, Err(JwtError::MissingExp));
    }
}

#[tokio::test]
async fn wrong_or_missing_issuer_is_rejected() {
    let source = FakeSource::serving(all_keys_jwks());
    let (verifier, _clock) = verifier(&source);
    for iss in [json!("https://evil.supabase.co/auth/v1"), json!(null)] {
        let token = keys().es.token(&payload_with(json!({"iss": iss})));
        assert_eq!(verifier.verify(&token).await, Err(JwtError::InvalidIssuer));
    }
}

#[tokio::test]
async fn issuer_check_can_be_disabled() {
    let source = FakeSource::serving(all_keys_jwks());
    let mut config = config();
    config.issuer = None;
    let (verifier, _clock) = verifier_with(config, &source);
    let token = keys().es.token(&payload_with(json!({"iss": "elsewhere"})));
    assert!(verifier.verify(&token).await.unwrap().is_verified());
}

#[tokio::test]
async fn wrong_or_missing_audience_is_rejected() {
    let source = FakeSource::serving(all_keys_jwks());
    let (verifier, _clock) = verifier(&source);
    for aud in [json!("anon"), json!(["a", "b"]), json!([]), json!(null)] {
        let token = keys().es.token(&payload_with(json!({"aud": aud})));
        assert_eq!(
            verifier.verify(&token).await,
            Err(JwtError::InvalidAudience)
        );
    }
}

#[tokio::test]
async fn audience_array_containing_the_audience_is_accepted() {
    let source = FakeSource::serving(all_keys_jwks());
    let (verifier, _clock) = verifier(&source);
    let token = keys()
        .es
        .token(&payload_with(json!({"aud": ["other", "authenticated"]})));
    assert!(verifier.verify(&token).await.unwrap().is_verified());

    let mut config = config();
    config.audience = None;
    let (verifier, _clock) = verifier_with(config, &source);
    let token = keys().es.token(&payload_with(json!({"aud": null})));
    assert!(verifier.verify(&token).await.unwrap().is_verified());
}

#[tokio::test]
async fn missing_sub_is_rejected() {
    let source = FakeSource::serving(all_keys_jwks());
    let (verifier, _clock) = verifier(&source);
    let token = keys().es.token(&payload_with(json!({"sub": null})));
    assert_eq!(verifier.verify(&token).await, Err(JwtError::MissingSubject));
}

#[tokio::test]
async fn alg_none_is_rejected_in_any_case_without_fetching() {
    let source = FakeSource::serving(all_keys_jwks());
    let (verifier, _clock) = verifier(&source);
    for alg in ["none", "None", "NONE"] {
        let token = unsigned(&json!({"alg": alg, "kid": "es-1"}), &payload(), "");
        assert_eq!(verifier.verify(&token).await, Err(JwtError::AlgNone));
    }
    assert_eq!(source.calls(), 0);
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_never_verified() {
    let source = FakeSource::serving(all_keys_jwks());
    let (verifier, _clock) = verifier(&source);
    let k = keys();
    // Classic confusion: use the published key material as an HMAC secret.
    let secrets = [
        k.es.public.clone(),
        k.es.jwk.to_string().into_bytes(),
        k.rs.public.clone(),
        k.ed.public.clone(),
    ];
    for secret in secrets {
        for kid in ["es-1", "rs-1", "ed-1"] {
            let token = sign_with(
                &jsonwebtoken::EncodingKey::from_secret(&secret),
                jsonwebtoken::Algorithm::HS256,
                &json!({"alg": "HS256", "kid": kid, "typ": "JWT"}),
                &payload(),
            );
            assert_eq!(
                verifier.verify(&token).await,
                Ok(Verification::NeedsServerCheck {
                    claims: claims_of(&payload()),
                    reason: FallbackReason::SymmetricAlgorithm,
                })
            );
        }
    }
    // HS tokens go to the server without touching the JWKS.
    assert_eq!(source.calls(), 0);
}

#[tokio::test]
async fn same_kid_signed_by_another_key_is_a_bad_signature() {
    let source = FakeSource::serving(all_keys_jwks());
    let (verifier, _clock) = verifier(&source);
    let token = keys().es_other.token(&payload());
    assert_eq!(
        verifier.verify(&token).await,
        Err(JwtError::InvalidSignature)
    );
}

#[tokio::test]
async fn tampered_payload_is_a_bad_signature() {
    let source = FakeSource::serving(all_keys_jwks());
    let (verifier, _clock) = verifier(&source);
    for key in [&keys().es, &keys().rs, &keys().ed] {
        let token = key.token(&payload());
        let forged_payload = b64(payload_with(json!({"role": "service_role"}))
            .to_string()
            .as_bytes());
        let parts: Vec<&str> = token.split('.').collect();
        let forged = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
        assert_eq!(
            verifier.verify(&forged).await,
            Err(JwtError::InvalidSignature)
        );
    }
}

#[tokio::test]
async fn header_alg_must_equal_the_jwk_alg() {
    let source = FakeSource::serving(all_keys_jwks());
    let (verifier, _clock) = verifier(&source);
    let k = keys();
    // RS256 header naming the ES256 key, validly signed by the RSA key.
    let rs_as_es =
        k.rs.sign(&json!({"alg": "RS256", "kid": "es-1"}), &payload());
    assert_eq!(
        verifier.verify(&rs_as_es).await,
        Err(JwtError::AlgorithmMismatch)
    );
    // Same family, other curve/hash; and an algorithm jsonwebtoken does not know.
    for alg in ["ES384", "PS256", "ES512", "EdDSA"] {
        let token = k.es.sign(&json!({"alg": alg, "kid": "es-1"}), &payload());
        assert_eq!(
            verifier.verify(&token).await,
            Err(JwtError::AlgorithmMismatch)
        );
    }
}

#[tokio::test]
async fn token_without_kid_needs_server_check_without_fetching() {
    let source = FakeSource::serving(all_keys_jwks());
    let (verifier, _clock) = verifier(&source);
    for header in [
        json!({"alg": "ES256", "typ": "JWT"}),
        json!({"alg": "ES256", "kid": ""}),
    ] {
        let token = keys().es.sign(&header, &payload());
        assert_eq!(
            verifier.verify(&token).await,
            Ok(Verification::NeedsServerCheck {
                claims: claims_of(&payload()),
                reason: FallbackReason::MissingKid,
            })
        );
    }
    assert_eq!(source.calls(), 0);
}

#[tokio::test]
async fn claim_checks_also_apply_to_tokens_that_need_a_server_check() {
    let source = FakeSource::serving(all_keys_jwks());
    let (verifier, _clock) = verifier(&source);
    let hs = |payload| {
        sign_with(
            &jsonwebtoken::EncodingKey::from_secret(b"project-jwt-secret"),
            jsonwebtoken::Algorithm::HS256,
            &json!({"alg": "HS256", "typ": "JWT"}),
            &payload,
        )
    };
    let cases = [
        (json!({"iss": "other"}), JwtError::InvalidIssuer),
        (json!({"aud": "anon"}), JwtError::InvalidAudience),
        (json!({"sub": null}), JwtError::MissingSubject),
    ];
    for (change, error) in cases {
        assert_eq!(verifier.verify(&hs(payload_with(change))).await, Err(error));
    }
}

#[tokio::test]
async fn unknown_claims_are_kept_in_extra() {
    let source = FakeSource::serving(all_keys_jwks());
    let (verifier, _clock) = verifier(&source);
    let token = keys()
        .es
        .token(&payload_with(json!({"tenant": "t1", "scope": "openid"})));
    let claims = verifier.verify(&token).await.unwrap().into_claims();
    assert_eq!(claims.extra.get("tenant"), Some(&json!("t1")));
    assert_eq!(claims.extra.get("scope"), Some(&json!("openid")));
    assert_eq!(claims.extra.len(), 2);
}

#[tokio::test]
async fn rsa_jwk_with_leading_zero_bytes_verifies() {
    let k = keys();
    let padded_n = [&[0][..], &k.rs.public].concat();
    let mut jwk = k.rs.jwk.clone();
    jwk["n"] = json!(b64(&padded_n));
    jwk["e"] = json!(b64(&[0, 1, 0, 1]));
    let source = FakeSource::serving(jwks(&[&jwk]));
    let (verifier, _clock) = verifier(&source);
    assert_eq!(
        verifier.verify(&k.rs.token(&payload())).await,
        Ok(Verification::Verified(verified_of(&payload())))
    );
}

#[tokio::test]
async fn a_key_aws_lc_rejects_sends_its_tokens_to_the_server() {
    let k = keys();
    let mut jwk = k.es.jwk.clone();
    jwk["x"] = json!(b64(&[0; 32]));
    jwk["y"] = json!(b64(&[0; 32]));
    let source = FakeSource::serving(jwks(&[&jwk]));
    let (verifier, _clock) = verifier(&source);
    assert_eq!(
        verifier.verify(&k.es.token(&payload())).await,
        Ok(Verification::NeedsServerCheck {
            claims: claims_of(&payload()),
            reason: FallbackReason::UnsupportedKey,
        })
    );
    assert_eq!(source.calls(), 1);
}

#[test]
fn config_defaults_follow_auth_js_plus_our_checks() {
    use std::time::Duration;
    let config = crate::jwt::JwtConfig::for_auth_url("https://abc.supabase.co/auth/v1/");
    assert_eq!(
        config.issuer.as_deref(),
        Some("https://abc.supabase.co/auth/v1")
    );
    assert_eq!(config.audience.as_deref(), Some("authenticated"));
    assert_eq!(config.leeway_secs, 0);
    assert_eq!(config.jwks_ttl, Duration::from_secs(600));
    assert_eq!(config.unknown_kid_cooldown, Duration::from_secs(30));
    assert_eq!(config.stale_max, Duration::from_secs(3600));
}

#[test]
fn a_fallback_outcome_exposes_its_unverified_claims() {
    let claims = claims_of(&payload());
    let fallback = Verification::NeedsServerCheck {
        claims: claims.clone(),
        reason: FallbackReason::UnknownKid,
    };
    assert!(!fallback.is_verified());
    assert_eq!(fallback.claims(), &claims);
    assert_eq!(fallback.into_claims(), claims);
}
