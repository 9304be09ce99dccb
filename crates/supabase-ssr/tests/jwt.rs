//! The public JWT types: claims parsing and serialization, errors.
#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};
use supabase_ssr::jwt::{AmrEntry, Audience, Claims, JwtError};

/// The payload Supabase Auth writes (reference: auth server API §5.2), with two custom
/// claims from an access-token hook at the end.
const SUPABASE_PAYLOAD: &str = r#"{"iss":"http://127.0.0.1:54321/auth/v1","sub":"8d4e3a6c-2b1f-4f0e-9a7d-5c6b4a3e2d1f","aud":"authenticated","exp":1760003600,"iat":1760000000,"email":"a@b.co","phone":"","app_metadata":{"provider":"email","providers":["email"]},"user_metadata":{"name":"Ada","avatar":null},"role":"authenticated","aal":"aal1","amr":[{"method":"password","timestamp":1760000000},{"method":"sso/saml","timestamp":1759990000,"provider":"acme"}],"session_id":"0b9f3c1e-7a2d-4c5b-8e6f-1a2b3c4d5e6f","is_anonymous":false,"tenant":"t1","scope":{"z":1,"a":2}}"#;

#[test]
fn supabase_payload_is_parsed_into_typed_claims() {
    let claims = Claims::from_payload_json(SUPABASE_PAYLOAD).unwrap();
    assert_eq!(
        claims.iss.as_deref(),
        Some("http://127.0.0.1:54321/auth/v1")
    );
    assert_eq!(
        claims.sub.as_deref(),
        Some("8d4e3a6c-2b1f-4f0e-9a7d-5c6b4a3e2d1f")
    );
    assert_eq!(claims.aud, Some(Audience::One("authenticated".to_owned())));
    assert_eq!(claims.exp, Some(1_760_003_600));
    assert_eq!(claims.iat, Some(1_760_000_000));
    assert_eq!(claims.nbf, None);
    assert_eq!(claims.email.as_deref(), Some("a@b.co"));
    assert_eq!(claims.phone.as_deref(), Some(""));
    assert_eq!(
        Value::Object(claims.app_metadata.clone()),
        json!({"provider": "email", "providers": ["email"]})
    );
    assert_eq!(
        Value::Object(claims.user_metadata.clone()),
        json!({"name": "Ada", "avatar": null})
    );
    assert_eq!(claims.role.as_deref(), Some("authenticated"));
    assert_eq!(claims.aal.as_deref(), Some("aal1"));
    let amr = claims.amr.as_ref().unwrap();
    assert_eq!(amr.len(), 2);
    assert_eq!(
        (
            amr[0].method.as_str(),
            amr[0].timestamp,
            amr[0].provider.as_deref()
        ),
        ("password", Some(1_760_000_000), None)
    );
    assert_eq!(
        (
            amr[1].method.as_str(),
            amr[1].timestamp,
            amr[1].provider.as_deref()
        ),
        ("sso/saml", Some(1_759_990_000), Some("acme"))
    );
    assert_eq!(
        claims.session_id.as_deref(),
        Some("0b9f3c1e-7a2d-4c5b-8e6f-1a2b3c4d5e6f")
    );
    assert_eq!(claims.is_anonymous, Some(false));
    assert_eq!(
        Value::Object(claims.extra.clone()),
        json!({"tenant": "t1", "scope": {"z": 1, "a": 2}})
    );
}

#[test]
fn serializing_gives_back_the_supabase_payload_byte_for_byte() {
    let claims = Claims::from_payload_json(SUPABASE_PAYLOAD).unwrap();
    assert_eq!(serde_json::to_string(&claims).unwrap(), SUPABASE_PAYLOAD);
}

/// Claims of every shape `clone_from` has to handle: the full Supabase payload, one
/// with every claim absent, audiences as a string and as an array, metadata with the same
/// keys and other values, with other keys, nested objects and arrays of other lengths,
/// other and more `amr` entries, other extra claims.
fn claim_shapes() -> Vec<Claims> {
    let mut payloads = vec![SUPABASE_PAYLOAD.to_owned(), "{}".to_owned()];
    let mut full: Value = serde_json::from_str(SUPABASE_PAYLOAD).unwrap();
    let edits = [
        json!({"sub": "other", "email": "much.longer.address@example.com", "phone": null}),
        json!({"aud": ["authenticated", "other"], "nbf": 5}),
        json!({"app_metadata": {"provider": "github", "providers": ["github", "email", "x"]}}),
        json!({"app_metadata": {"providers": [], "provider": 7}, "user_metadata": {}}),
        json!({"user_metadata": {"name": {"first": "Ada"}, "avatar": [1, "two", null]}}),
        json!({"amr": [{"method": "otp"}, "totp", {"method": "oauth", "timestamp": 3}]}),
        json!({"amr": [], "tenant": null, "scope": "one", "more": [true]}),
    ];
    for edit in edits {
        for (key, value) in edit.as_object().unwrap() {
            full[key] = value.clone();
        }
        payloads.push(full.to_string());
    }
    payloads
        .iter()
        .map(|p| Claims::from_payload_json(p).unwrap())
        .collect()
}

#[test]
fn clone_from_gives_the_source_whatever_the_claims_held_before() {
    let shapes = claim_shapes();
    for (i, target) in shapes.iter().enumerate() {
        for (j, source) in shapes.iter().enumerate() {
            let mut copy = target.clone();
            assert_eq!(copy, *target);
            copy.clone_from(source);
            assert_eq!(copy, *source, "shape {j} written over shape {i}");
            assert_eq!(
                serde_json::to_string(&copy).unwrap(),
                serde_json::to_string(source).unwrap()
            );
        }
    }
}

#[test]
fn clone_from_claims_of_the_same_shape_keeps_every_buffer() {
    let payload = |n: u32| {
        SUPABASE_PAYLOAD
            .replace("Ada", &format!("Ad{n}"))
            .replace("8d4e3a6c", &format!("{n:08}"))
            .replace("acme", &format!("ac{n:02}"))
    };
    let mut target = Claims::from_payload_json(payload(1)).unwrap();
    let source = Claims::from_payload_json(payload(2)).unwrap();
    let buffers = |c: &Claims| {
        [
            c.sub.as_ref().unwrap().as_ptr(),
            c.user_metadata["name"].as_str().unwrap().as_ptr(),
            c.app_metadata["providers"][0].as_str().unwrap().as_ptr(),
            c.amr.as_ref().unwrap()[1]
                .provider
                .as_ref()
                .unwrap()
                .as_ptr(),
            c.amr.as_ref().unwrap().as_ptr().cast(),
        ]
    };
    let before = buffers(&target);
    target.clone_from(&source);
    assert_eq!(target, source);
    assert_eq!(buffers(&target), before);
    assert_ne!(buffers(&source), before);
}

#[test]
fn absent_claims_are_none_or_empty_and_not_serialized() {
    let claims = Claims::from_payload_json(r#"{"sub":"u","exp":5}"#).unwrap();
    assert_eq!(claims.iss, None);
    assert_eq!(claims.aud, None);
    assert_eq!(claims.amr, None);
    assert_eq!(claims.is_anonymous, None);
    assert!(claims.app_metadata.is_empty() && claims.user_metadata.is_empty());
    assert_eq!(claims.audiences().count(), 0);
    assert_eq!(
        serde_json::to_string(&claims).unwrap(),
        r#"{"sub":"u","exp":5,"app_metadata":{},"user_metadata":{}}"#
    );
    // null is read as absent.
    let nulls = Claims::from_payload_json(
        r#"{"sub":"u","email":null,"app_metadata":null,"amr":null,"exp":null}"#,
    )
    .unwrap();
    assert_eq!((nulls.email, nulls.exp, nulls.amr), (None, None, None));
}

#[test]
fn audience_may_be_a_string_or_an_array() {
    let one = Claims::from_payload_json(r#"{"aud":"authenticated"}"#).unwrap();
    assert_eq!(one.audiences().collect::<Vec<_>>(), ["authenticated"]);
    let many = Claims::from_payload_json(r#"{"aud":["a","authenticated"]}"#).unwrap();
    assert_eq!(many.audiences().collect::<Vec<_>>(), ["a", "authenticated"]);
    assert!(many.aud.as_ref().unwrap().contains("authenticated"));
    assert!(!many.aud.as_ref().unwrap().contains("b"));
    assert_eq!(
        serde_json::to_string(&many).unwrap(),
        r#"{"aud":["a","authenticated"],"app_metadata":{},"user_metadata":{}}"#
    );
}

#[test]
fn amr_accepts_rfc8176_strings() {
    let claims = Claims::from_payload_json(r#"{"amr":["pwd","mfa"]}"#).unwrap();
    let methods: Vec<&AmrEntry> = claims.amr.as_ref().unwrap().iter().collect();
    assert_eq!(methods.len(), 2);
    assert_eq!(
        (methods[0].method.as_str(), methods[0].timestamp),
        ("pwd", None)
    );
    assert_eq!(
        serde_json::to_string(&claims).unwrap(),
        r#"{"app_metadata":{},"user_metadata":{},"amr":[{"method":"pwd"},{"method":"mfa"}]}"#
    );
}

#[test]
fn fractional_and_huge_numeric_dates_are_floored_and_clamped() {
    let claims =
        Claims::from_payload_json(r#"{"exp":1760003600.9,"iat":-1.5,"nbf":18446744073709551615}"#)
            .unwrap();
    assert_eq!(claims.exp, Some(1_760_003_600));
    assert_eq!(claims.iat, Some(-2));
    assert_eq!(claims.nbf, Some(i64::MAX));
}

#[test]
fn malformed_payloads_are_errors_that_quote_nothing() {
    for json in [
        "",
        "[]",
        "null",
        r#"{"sub":1}"#,
        r#"{"exp":"1760003600"}"#,
        r#"{"exp":1,"exp":2}"#,
        r#"{"aud":{"x":1}}"#,
        r#"{"email":"secret@example.com","is_anonymous":"no"}"#,
    ] {
        let error = Claims::from_payload_json(json).unwrap_err();
        assert_eq!(
            error,
            JwtError::Malformed("payload is not a valid claims object"),
            "{json}"
        );
        assert!(!error.to_string().contains("secret"));
    }
}

#[test]
fn debug_is_concise_and_leaves_out_personal_data() {
    let claims = Claims::from_payload_json(SUPABASE_PAYLOAD).unwrap();
    assert_eq!(
        format!("{claims:?}"),
        "Claims { sub: Some(\"8d4e3a6c-2b1f-4f0e-9a7d-5c6b4a3e2d1f\"), role: Some(\"authenticated\"), \
         aal: Some(\"aal1\"), session_id: Some(\"0b9f3c1e-7a2d-4c5b-8e6f-1a2b3c4d5e6f\"), \
         is_anonymous: Some(false), exp: Some(1760003600), extra_claims: 2, .. }"
    );
}

#[test]
fn only_jwks_unavailability_is_retryable() {
    let all = [
        JwtError::Malformed("x"),
        JwtError::AlgNone,
        JwtError::MissingExp,
        JwtError::Expired,
        JwtError::NotYetValid,
        JwtError::AlgorithmMismatch,
        JwtError::InvalidSignature,
        JwtError::InvalidIssuer,
        JwtError::InvalidAudience,
        JwtError::MissingSubject,
        JwtError::JwksUnavailable,
    ];
    let retryable: Vec<_> = all.iter().filter(|e| e.is_retryable()).collect();
    assert_eq!(retryable, [&JwtError::JwksUnavailable]);
    assert_eq!(JwtError::Expired.to_string(), "JWT has expired");
    assert_eq!(
        JwtError::JwksUnavailable.to_string(),
        "the signing keys (JWKS) are unavailable"
    );
}
