//! Property tests: nothing an attacker sends makes `verify` panic or return `Verified`,
//! unless it is a token one of the published keys signed.

use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::json;

use super::support::*;
use crate::jwt::{JwtError, JwtVerifier, Verification};

struct Harness {
    runtime: tokio::runtime::Runtime,
    verifier: JwtVerifier,
    // Kept alive so the verifier's clock does not move.
    _clock: crate::clock::ManualClock,
}

impl Harness {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let source = FakeSource::serving(all_keys_jwks());
        let (verifier, clock) = verifier(&source);
        Self {
            runtime,
            verifier,
            _clock: clock,
        }
    }

    fn verify(&self, token: &str) -> Result<Verification, JwtError> {
        self.runtime.block_on(self.verifier.verify(token))
    }
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

fn check_not_verified(harness: &Harness, token: &str) -> Result<(), TestCaseError> {
    let outcome = harness.verify(token);
    prop_assert!(
        !matches!(outcome, Ok(Verification::Verified(_))),
        "verified: {token:?}"
    );
    Ok(())
}

#[test]
fn arbitrary_strings_are_never_verified() {
    let harness = Harness::new();
    let strategy = prop_oneof![
        any::<String>(),
        "[A-Za-z0-9_=+/. -]{0,300}",
        proptest::collection::vec(any::<u8>(), 0..400)
            .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
    ];
    runner(512)
        .run(&strategy, |token| check_not_verified(&harness, &token))
        .unwrap();
}

#[test]
fn jwt_shaped_strings_are_never_verified() {
    let harness = Harness::new();
    let part = "[A-Za-z0-9_-]{0,200}";
    let strategy = (part, part, part).prop_map(|(h, p, s)| format!("{h}.{p}.{s}"));
    runner(512)
        .run(&strategy, |token| check_not_verified(&harness, &token))
        .unwrap();
}

#[test]
fn well_formed_tokens_with_forged_signatures_are_never_verified() {
    let harness = Harness::new();
    let alg = prop_oneof![
        Just("ES256".to_owned()),
        Just("RS256".to_owned()),
        Just("EdDSA".to_owned()),
        Just("HS256".to_owned()),
        Just("none".to_owned()),
        "[A-Za-z0-9]{0,8}",
    ];
    let kid = prop_oneof![
        Just(Some("es-1".to_owned())),
        Just(Some("rs-1".to_owned())),
        Just(Some("ed-1".to_owned())),
        Just(None),
        "[a-z0-9-]{0,12}".prop_map(Some),
    ];
    let signature = proptest::collection::vec(any::<u8>(), 0..300);
    let strategy = (alg, kid, signature, any::<bool>());
    runner(256)
        .run(&strategy, |(alg, kid, signature, full)| {
            let header = match kid {
                Some(kid) => json!({"alg": alg, "kid": kid, "typ": "JWT"}),
                None => json!({"alg": alg}),
            };
            let claims = if full {
                payload()
            } else {
                json!({"exp": T0 + 60})
            };
            let token = unsigned(&header, &claims, &b64(&signature));
            check_not_verified(&harness, &token)
        })
        .unwrap();
}

#[test]
fn one_changed_character_in_a_valid_token_is_never_verified() {
    let harness = Harness::new();
    let k = keys();
    let tokens: Arc<Vec<String>> = Arc::new(vec![
        k.es.token(&payload()),
        k.rs.token(&payload()),
        k.ed.token(&payload()),
    ]);
    for token in tokens.iter() {
        assert!(harness.verify(token).unwrap().is_verified());
    }
    let alphabet: Vec<char> = ('A'..='Z')
        .chain('a'..='z')
        .chain('0'..='9')
        .chain(['-', '_', '.'])
        .collect();
    let strategy = (
        0..tokens.len(),
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
    );
    runner(512)
        .run(&strategy, |(which, position, replacement)| {
            let mut chars: Vec<char> = tokens[which].chars().collect();
            let at = position.index(chars.len());
            let new = *replacement.get(&alphabet);
            prop_assume!(chars[at] != new);
            chars[at] = new;
            let token: String = chars.into_iter().collect();
            check_not_verified(&harness, &token)
        })
        .unwrap();
}
