//! Which JWKs become usable keys, and with which algorithm.

use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

use super::support::*;
use crate::jwt::jwk::{KeyEntry, KeySet};

fn parse(keys: &[&Value]) -> KeySet {
    KeySet::parse(&jwks(keys)).unwrap()
}

fn alg_of(set: &KeySet, kid: &str) -> Option<Algorithm> {
    match set.get(kid) {
        Some(KeyEntry::Usable(key)) => Some(key.alg),
        Some(KeyEntry::Unsupported) => None,
        None => panic!("kid {kid} missing"),
    }
}

fn without(jwk: &Value, fields: &[&str]) -> Value {
    let mut jwk = jwk.clone();
    for field in fields {
        jwk.as_object_mut().unwrap().remove(*field);
    }
    jwk
}

fn with(jwk: &Value, field: &str, value: Value) -> Value {
    let mut jwk = jwk.clone();
    jwk[field] = value;
    jwk
}

#[test]
fn supabase_shaped_keys_are_usable_with_their_alg() {
    let k = keys();
    let set = parse(&[&k.es.jwk, &k.rs.jwk, &k.ed.jwk]);
    assert_eq!(alg_of(&set, "es-1"), Some(Algorithm::ES256));
    assert_eq!(alg_of(&set, "rs-1"), Some(Algorithm::RS256));
    assert_eq!(alg_of(&set, "ed-1"), Some(Algorithm::EdDSA));
}

#[test]
fn alg_is_inferred_from_kty_and_crv_when_absent() {
    let k = keys();
    let bare = ["alg", "use", "key_ops"];
    let set = parse(&[
        &without(&k.es.jwk, &bare),
        &without(&k.rs.jwk, &bare),
        &without(&k.ed.jwk, &bare),
    ]);
    assert_eq!(alg_of(&set, "es-1"), Some(Algorithm::ES256));
    assert_eq!(alg_of(&set, "rs-1"), Some(Algorithm::RS256));
    assert_eq!(alg_of(&set, "ed-1"), Some(Algorithm::EdDSA));
}

#[test]
fn keys_we_do_not_verify_with_are_marked_unsupported() {
    let k = keys();
    let cases = [
        json!({"kty": "oct", "kid": "a", "k": b64(b"secret")}),
        json!({"kty": "oct", "kid": "b", "alg": "HS256", "k": b64(b"secret")}),
        // An oct key claiming an asymmetric alg must not become any kind of key.
        json!({"kty": "oct", "kid": "c", "alg": "ES256", "k": b64(b"secret")}),
        with(&k.es.jwk, "alg", json!("ES384")),
        with(&k.es.jwk, "crv", json!("P-384")),
        with(&k.es.jwk, "alg", json!("RS256")),
        with(&k.rs.jwk, "alg", json!("RS512")),
        with(&k.rs.jwk, "alg", json!("none")),
        with(&k.es.jwk, "use", json!("enc")),
        with(&k.es.jwk, "key_ops", json!(["sign"])),
        with(&k.es.jwk, "key_ops", json!([])),
        with(&k.es.jwk, "x", json!("AAAA")),
        with(&k.es.jwk, "y", json!("not base64!")),
        without(&k.es.jwk, &["y"]),
        with(&k.ed.jwk, "crv", json!("Ed448")),
        // 1024-bit modulus.
        with(&k.rs.jwk, "n", json!(b64(&[0xc5; 128]))),
        with(&k.rs.jwk, "e", json!("AA")),
    ];
    for (i, case) in cases.iter().enumerate() {
        let case = with(case, "kid", json!(format!("k{i}")));
        let set = parse(&[&case]);
        assert_eq!(alg_of(&set, &format!("k{i}")), None, "case {i}: {case}");
    }
}

#[test]
fn unreadable_or_kidless_keys_are_skipped_without_losing_the_others() {
    let k = keys();
    let set = parse(&[
        &json!("a string"),
        &json!({"kid": "no-kty"}),
        &json!({"kty": "EC", "kid": 5}),
        &without(&k.rs.jwk, &["kid"]),
        &with(&k.ed.jwk, "kid", json!("")),
        &k.es.jwk,
    ]);
    assert_eq!(alg_of(&set, "es-1"), Some(Algorithm::ES256));
    assert!(set.get("no-kty").is_none());
    assert!(set.same_keys(&parse(&[&k.es.jwk])));
}

#[test]
fn first_usable_key_wins_for_a_duplicated_kid() {
    let k = keys();
    let unusable = with(&k.es.jwk, "use", json!("enc"));
    let rs_as_es = with(&k.rs.jwk, "kid", json!("es-1"));
    let set = parse(&[&unusable, &k.es.jwk, &rs_as_es]);
    assert_eq!(alg_of(&set, "es-1"), Some(Algorithm::ES256));
}

#[test]
fn same_keys_compares_material() {
    let k = keys();
    let a = parse(&[&k.es.jwk, &k.rs.jwk]);
    assert!(a.same_keys(&parse(&[&k.rs.jwk, &k.es.jwk])));
    assert!(!a.same_keys(&parse(&[&k.es.jwk])));
    assert!(!a.same_keys(&parse(&[&k.es_other.jwk, &k.rs.jwk])));
}

#[test]
fn non_jwks_documents_are_errors_and_empty_sets_are_empty() {
    for doc in [&b"nope"[..], b"{}", b"[]", b"{\"keys\":null}"] {
        assert!(KeySet::parse(doc).is_err());
    }
    assert!(KeySet::parse(b"{\"keys\":[]}").unwrap().is_empty());
    assert!(
        KeySet::parse(b"{\"keys\":[{\"kty\":\"EC\"}]}")
            .unwrap()
            .is_empty()
    );
}
