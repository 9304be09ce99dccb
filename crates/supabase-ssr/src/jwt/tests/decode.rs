//! Token decoding: structure, base64url strictness, header and payload JSON.

use serde_json::json;

use super::support::*;
use crate::jwt::JwtError;
use crate::jwt::decode::{HeaderAlg, MAX_TOKEN_LEN, decode};

const THREE_PARTS: &str = "not three dot-separated parts";
const BASE64: &str = "part is not unpadded base64url";
const HEADER: &str = "header is not a valid JSON object";
const PAYLOAD: &str = "payload is not a valid claims object";

fn header_b64(header: &serde_json::Value) -> String {
    b64(header.to_string().as_bytes())
}

fn reason(token: &str) -> &'static str {
    match decode(token) {
        Err(JwtError::Malformed(reason)) => reason,
        other => panic!("expected Malformed, got {other:?}"),
    }
}

#[test]
fn decodes_header_claims_signing_input_and_signature() {
    let token = keys().es.token(&payload());
    let decoded = decode(&token).unwrap();
    assert_eq!(
        decoded.alg,
        HeaderAlg::Known(jsonwebtoken::Algorithm::ES256)
    );
    assert_eq!(decoded.kid.as_deref(), Some("es-1"));
    assert_eq!(decoded.claims.exp, Some(T0 + 3600));
    let (input, sig) = token.rsplit_once('.').unwrap();
    assert_eq!(decoded.signing_input, input);
    assert_eq!(b64(&decoded.signature), sig);
    assert_eq!(decoded.signature.len(), 64);
}

#[test]
fn header_alg_is_classified() {
    let p = b64(payload().to_string().as_bytes());
    let cases = [
        ("none", HeaderAlg::None),
        ("nOnE", HeaderAlg::None),
        ("HS256", HeaderAlg::Hmac),
        ("HS999", HeaderAlg::Hmac),
        ("RS256", HeaderAlg::Known(jsonwebtoken::Algorithm::RS256)),
        ("EdDSA", HeaderAlg::Known(jsonwebtoken::Algorithm::EdDSA)),
        ("hs256", HeaderAlg::Unknown),
        ("ES512", HeaderAlg::Unknown),
        ("", HeaderAlg::Unknown),
    ];
    for (alg, expected) in cases {
        let token = format!("{}.{p}.", header_b64(&json!({"alg": alg})));
        assert_eq!(decode(&token).unwrap().alg, expected, "{alg}");
    }
}

#[test]
fn wrong_number_of_parts_is_malformed() {
    let token = keys().es.token(&payload());
    let parts: Vec<&str> = token.split('.').collect();
    for bad in [
        String::new(),
        parts[0].to_owned(),
        format!("{}.{}", parts[0], parts[1]),
        format!("{token}."),
        format!("{token}.{}", parts[2]),
        format!(".{token}"),
    ] {
        assert_eq!(reason(&bad), THREE_PARTS);
    }
}

#[test]
fn non_base64url_parts_are_malformed() {
    let token = keys().es.token(&payload());
    let (h, rest) = token.split_once('.').unwrap();
    let (p, s) = rest.split_once('.').unwrap();
    let cases = [
        // Padding, in any part.
        format!("{h}=.{p}.{s}"),
        format!("{h}.{p}==.{s}"),
        format!("{h}.{p}.{s}="),
        // Standard-alphabet characters and others.
        format!("{h}.{p}.{}", s.replace('-', "+").replace('_', "/") + "+/"),
        format!("{h}.{p} .{s}"),
        format!("{h}.{p}.{s}\n"),
        format!("{h}.{p}.{s}\u{e9}"),
        // A length of 4n+1 cannot be base64.
        format!("{h}.{p}.AAAAA"),
        // Non-zero trailing bits ("QQ" is canonical for "A"; "QR" is not).
        format!("{h}.{p}.QR"),
    ];
    for bad in cases {
        assert_eq!(reason(&bad), BASE64, "{bad}");
    }
}

#[test]
fn header_must_be_a_json_object_with_a_string_alg() {
    let p = b64(payload().to_string().as_bytes());
    for header in [
        &b"not json"[..],
        b"[]",
        b"\"ES256\"",
        b"{\"alg\":1}",
        b"{\"alg\":\"ES256\",\"kid\":7}",
        b"{\"alg\":\"ES256\",\"alg\":\"HS256\"}",
        b"",
    ] {
        assert_eq!(reason(&format!("{}.{p}.", b64(header))), HEADER);
    }
    let no_alg = format!("{}.{p}.", header_b64(&json!({"kid": "k"})));
    assert_eq!(reason(&no_alg), "header has no alg");
    let crit = format!(
        "{}.{p}.",
        header_b64(&json!({"alg": "ES256", "crit": ["b64"]}))
    );
    assert_eq!(reason(&crit), "unsupported crit header");
}

#[test]
fn empty_kid_counts_as_absent_and_other_header_fields_are_ignored() {
    let p = b64(payload().to_string().as_bytes());
    let token = format!(
        "{}.{p}.",
        header_b64(&json!({"alg": "ES256", "kid": "", "typ": "at+jwt", "x5u": "https://x"}))
    );
    assert_eq!(decode(&token).unwrap().kid, None);
}

#[test]
fn payload_must_be_a_claims_object_with_typed_claims_of_the_right_type() {
    let h = header_b64(&json!({"alg": "ES256", "kid": "es-1"}));
    for payload in [
        json!([]),
        json!("x"),
        json!({"sub": 5}),
        json!({"exp": "tomorrow"}),
        json!({"aud": 1}),
        json!({"amr": [{"timestamp": 1}]}),
        json!({"is_anonymous": "false"}),
        json!({"app_metadata": []}),
    ] {
        let token = format!("{h}.{}.", b64(payload.to_string().as_bytes()));
        assert_eq!(reason(&token), PAYLOAD, "{payload}");
    }
    let duplicated = format!("{h}.{}.", b64(br#"{"sub":"a","sub":"b"}"#));
    assert_eq!(reason(&duplicated), PAYLOAD);
    let not_utf8 = format!("{h}.{}.", b64(b"{\"x\":\"\xff\"}"));
    assert_eq!(reason(&not_utf8), PAYLOAD);
}

#[test]
fn tokens_over_the_cap_are_refused_before_decoding() {
    let token = keys().es.token(&payload());
    let filler = "A".repeat(MAX_TOKEN_LEN);
    assert_eq!(reason(&format!("{token}{filler}")), "token too long");
    assert_eq!(reason(&"x".repeat(MAX_TOKEN_LEN + 1)), "token too long");
    // Exactly at the cap is still decoded (and fails for another reason here).
    assert_eq!(reason(&"x".repeat(MAX_TOKEN_LEN)), THREE_PARTS);
}

#[tokio::test]
async fn malformed_tokens_are_rejected_by_verify_without_fetching() {
    let source = FakeSource::serving(all_keys_jwks());
    let (verifier, _clock) = verifier(&source);
    for bad in ["", "a.b", "a.b.c.d", "@@@.@@@.@@@", "e30.e30.e30="] {
        match verifier.verify(bad).await {
            Err(JwtError::Malformed(_)) => {}
            other => panic!("{bad}: {other:?}"),
        }
    }
    let huge = format!("{}{}", keys().es.token(&payload()), "A".repeat(20_000));
    assert_eq!(
        verifier.verify(&huge).await,
        Err(JwtError::Malformed("token too long"))
    );
    assert_eq!(source.calls(), 0);
}

#[test]
fn error_messages_never_contain_the_token() {
    let token = format!("{}.secret-looking-part", keys().es.token(&payload()));
    let error = decode(&token).unwrap_err();
    let message = error.to_string();
    assert_eq!(message, "malformed JWT: not three dot-separated parts");
    assert!(!message.contains("secret"));
}

#[test]
fn signatures_of_any_length_decode_to_the_same_bytes() {
    let h = header_b64(&json!({"alg": "RS256", "kid": "rs-1"}));
    let p = b64(payload().to_string().as_bytes());
    // Empty, ES256/EdDSA, RSA-2048, RSA-4096 (the largest decoded on the stack), past it.
    for len in [0, 64, 256, 511, 512, 513, 1024] {
        let signature: Vec<u8> = (0..len).map(|i| (i * 7 % 256) as u8).collect();
        let token = format!("{h}.{p}.{}", b64(&signature));
        let decoded = decode(&token).unwrap();
        assert_eq!(&*decoded.signature, &signature[..], "{len}");
        assert_eq!(decoded.signing_input, format!("{h}.{p}"));
    }
    // A bad character far past the stack buffer is still found.
    let bad = format!("{h}.{p}.{}*", "A".repeat(1200));
    assert_eq!(reason(&bad), BASE64);
}

#[test]
fn large_headers_and_payloads_decode_like_small_ones() {
    let big = "x".repeat(5000);
    let header = json!({"alg": "ES256", "kid": "es-1", "x5u": big});
    let payload = payload_with(json!({"tenant": big}));
    let token = format!(
        "{}.{}.",
        header_b64(&header),
        b64(payload.to_string().as_bytes())
    );
    let decoded = decode(&token).unwrap();
    assert_eq!(
        decoded.alg,
        HeaderAlg::Known(jsonwebtoken::Algorithm::ES256)
    );
    assert_eq!(decoded.kid.as_deref(), Some("es-1"));
    assert_eq!(
        decoded.claims,
        crate::jwt::Claims::from_payload_json(payload.to_string()).unwrap()
    );
    assert!(decoded.signature.is_empty());
}

#[test]
fn extra_dots_are_reported_as_such_whatever_else_is_wrong() {
    let token = keys().es.token(&payload());
    let (h, rest) = token.split_once('.').unwrap();
    let (p, s) = rest.split_once('.').unwrap();
    for bad in [
        // Bad header, bad payload, bad signature, each with a fourth part.
        format!("@@.{p}.{s}.{s}"),
        format!("{h}.@@.{p}.{s}"),
        format!("{h}.{p}.@@.{s}"),
        format!("{h}.{p}.{s}.@@"),
        // A header that is not JSON, with the extra part in the middle.
        format!("{}.{p}..{s}", b64(b"nope")),
        // A payload that is not claims, split in two.
        format!("{h}.{}.{p}.{s}", b64(b"[]")),
        "...".to_owned(),
        "....".to_owned(),
    ] {
        assert_eq!(reason(&bad), THREE_PARTS, "{bad}");
    }
    // Exactly three parts: the part's own error.
    assert_eq!(reason(&format!("@@.{p}.{s}")), BASE64);
    assert_eq!(reason(&format!("{}.{p}.{s}", b64(b"nope"))), HEADER);
    assert_eq!(reason(&format!("{h}.{}.{s}", b64(b"[]"))), PAYLOAD);
    assert_eq!(reason(".."), HEADER);
}
