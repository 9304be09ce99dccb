//! Which JWKs become usable keys, and with which algorithm.

use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

use super::support::*;
use crate::jwt::jwk::{KeyEntry, KeySet, rsa_public_key_der};

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

#[test]
fn rsa_public_key_der_uses_minimal_positive_integers() {
    // High bit set: a 0x00 keeps the INTEGER positive.
    assert_eq!(
        rsa_public_key_der(&[0x80, 0x01], &[0x01, 0x00, 0x01]),
        [
            0x30, 0x0a, 0x02, 0x03, 0x00, 0x80, 0x01, 0x02, 0x03, 0x01, 0x00, 0x01
        ]
    );
    // High bit clear: no 0x00.
    assert_eq!(
        rsa_public_key_der(&[0x7f], &[0x03]),
        [0x30, 0x06, 0x02, 0x01, 0x7f, 0x02, 0x01, 0x03]
    );
    // 128 content bytes take the one-byte long form, 257 the two-byte one.
    let der = rsa_public_key_der(&[0x45; 128], &[0x03]);
    assert_eq!(der[..6], [0x30, 0x81, 0x86, 0x02, 0x81, 0x80]);
    assert_eq!(der.len(), 3 + 3 + 128 + 3);
    let der = rsa_public_key_der(&[0xc5; 256], &[0x01, 0x00, 0x01]);
    assert_eq!(
        der[..9],
        [0x30, 0x82, 0x01, 0x0a, 0x02, 0x82, 0x01, 0x01, 0x00]
    );
    assert_eq!(der[9..265], [0xc5; 256]);
    assert_eq!(der[265..], [0x02, 0x03, 0x01, 0x00, 0x01]);
}

#[test]
fn rsa_components_with_leading_zero_bytes_are_the_same_key() {
    let k = keys();
    let padded_n = [&[0, 0][..], &k.rs.public].concat();
    let padded = with(
        &with(&k.rs.jwk, "n", json!(b64(&padded_n))),
        "e",
        json!(b64(&[0, 1, 0, 1])),
    );
    let set = parse(&[&padded]);
    assert_eq!(alg_of(&set, "rs-1"), Some(Algorithm::RS256));
    assert!(set.same_keys(&parse(&[&k.rs.jwk])));
}

#[test]
fn key_material_aws_lc_rejects_is_unsupported() {
    let k = keys();
    // Right lengths, but (0, 0) is not a point of P-256.
    let off_curve = with(
        &with(&k.es.jwk, "x", json!(b64(&[0; 32]))),
        "y",
        json!(b64(&[0; 32])),
    );
    // An even public exponent is not an RSA key.
    let even_e = with(&k.rs.jwk, "e", json!(b64(&[2])));
    for case in [off_curve, even_e] {
        assert_eq!(
            alg_of(&parse(&[&case]), case["kid"].as_str().unwrap()),
            None,
            "{case}"
        );
    }
}
