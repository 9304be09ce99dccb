//! Hostile input against the core: forged tokens, broken cookies, oversized and
//! adversarial cookie sets, wrong-shape refresh tokens. Every case asserts the exact
//! outcome: the error (or "no session"), the `set_all` calls (which cookies are
//! deleted or kept) and the requests the Auth server saw.
//!
//! The outcomes are summarised in `RELIABILITY.md` at the repository root.
#![allow(clippy::unwrap_used)]

mod common;
mod reliability;

use std::sync::Arc;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reliability::*;
use serde_json::{Value, json};
use supabase_ssr::adapter::codec::{cookie_header_value, create_chunks, to_base64_value};
use supabase_ssr::cookies::{Cookie, CookieJar};
use supabase_ssr::{AuthError, SupabaseAuth, VerifiedClaims};

/// A project on the fake Auth server whose JWKS holds `key`.
async fn fake_project(key: &EsKey) -> (FakeAuth, SupabaseAuth) {
    let fake = FakeAuth::start(vec![key.jwk.clone()]).await;
    let auth = SupabaseAuth::builder(&fake.url, "sb_publishable_test")
        .retry_budget(Duration::from_millis(500))
        .build()
        .unwrap();
    (fake, auth)
}

/// `get_claims` over a session cookie holding `token`; the result and the jar.
async fn claims_of(
    auth: &SupabaseAuth,
    token: &str,
) -> (Result<Option<VerifiedClaims>, AuthError>, Arc<CookieJar>) {
    let jar = jar_with_token(token);
    let result = auth.server_client(jar.clone()).get_claims().await;
    (result, jar)
}

/// The error's `Display`, for exact comparison.
fn rejected(result: Result<Option<VerifiedClaims>, AuthError>) -> String {
    match result {
        Ok(claims) => panic!("accepted a forged token: {claims:?}"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn a_valid_token_is_accepted_as_the_control_case() {
    let key = EsKey::generate("k1");
    let (fake, auth) = fake_project(&key).await;
    let (result, jar) = claims_of(&auth, &key.token(&payload(&fake.issuer()))).await;
    let claims = result.unwrap().unwrap();
    assert_eq!(
        claims.sub.as_deref(),
        Some("8d4e3a6c-2b1f-4f0e-9a7d-5c6b4a3e2d1f")
    );
    assert!(jar.set_all_calls().is_empty());
    assert_eq!(
        (fake.counts.jwks(), fake.counts.user(), fake.counts.token()),
        (1, 0, 0)
    );
}

#[tokio::test]
async fn alg_none_is_refused_before_any_request() {
    let key = EsKey::generate("k1");
    let (fake, auth) = fake_project(&key).await;
    let claims = payload(&fake.issuer());
    for (alg, signature) in [("none", ""), ("None", ""), ("NONE", "c2ln"), ("nOnE", "")] {
        let token = unsigned(&json!({"alg": alg, "typ": "JWT"}), &claims, signature);
        let (result, jar) = claims_of(&auth, &token).await;
        assert_eq!(
            rejected(result),
            "invalid JWT: JWT algorithm `none` is not accepted",
            "{alg}"
        );
        assert!(jar.set_all_calls().is_empty(), "cookies are kept");
    }
    assert_eq!((fake.counts.jwks(), fake.counts.user()), (0, 0));
}

#[tokio::test]
async fn hs256_signed_with_the_public_jwk_goes_to_the_server_and_is_refused() {
    let key = EsKey::generate("k1");
    let (fake, auth) = fake_project(&key).await;
    let claims = payload(&fake.issuer());
    let header = json!({"alg": "HS256", "kid": key.kid, "typ": "JWT"});
    let x = key.jwk["x"].as_str().unwrap().to_owned();
    for secret in [key.jwk.to_string(), x] {
        let token = hs256(secret.as_bytes(), &header, &claims);
        let (result, jar) = claims_of(&auth, &token).await;
        assert_eq!(
            rejected(result),
            "auth server error (HTTP 403, code bad_jwt): invalid JWT: unable to parse or \
             verify signature, token signature is invalid"
        );
        assert!(jar.set_all_calls().is_empty());
    }
    // Never verified locally with the public key as an HMAC secret: both went to /user.
    assert_eq!((fake.counts.jwks(), fake.counts.user()), (0, 2));
}

#[tokio::test]
async fn es256_signed_with_another_key_under_the_published_kid_is_refused_locally() {
    let key = EsKey::generate("k1");
    let impostor = EsKey::generate("k1");
    let (fake, auth) = fake_project(&key).await;
    let (result, jar) = claims_of(&auth, &impostor.token(&payload(&fake.issuer()))).await;
    assert_eq!(rejected(result), "invalid JWT: invalid JWT signature");
    assert!(jar.set_all_calls().is_empty());
    assert_eq!((fake.counts.jwks(), fake.counts.user()), (1, 0));
}

#[tokio::test]
async fn a_token_re_signed_under_an_unknown_kid_is_checked_by_the_server_and_refused() {
    let key = EsKey::generate("k1");
    let stranger = EsKey::generate("not-in-the-jwks");
    let (fake, auth) = fake_project(&key).await;
    let (result, jar) = claims_of(&auth, &stranger.token(&payload(&fake.issuer()))).await;
    let error = result.unwrap_err();
    assert_eq!(error.kind(), supabase_ssr::AuthErrorKind::UnknownKey);
    assert_eq!(
        error.to_string(),
        "unknown signing key (HTTP 403, code bad_jwt): the token's signing key (kid) is not \
         in the project's JWKS, and the Auth server refused the token"
    );
    // The Auth server's refusal is the cause.
    let refusal = std::error::Error::source(&error)
        .and_then(|source| source.downcast_ref::<AuthError>())
        .unwrap();
    assert_eq!(
        refusal.to_string(),
        "auth server error (HTTP 403, code bad_jwt): invalid JWT: unable to parse or verify \
         signature, token signature is invalid"
    );
    assert!(jar.set_all_calls().is_empty());
    // One JWKS fetch (the kid is not there), then one server check.
    assert_eq!((fake.counts.jwks(), fake.counts.user()), (1, 1));
}

#[tokio::test]
async fn claim_checks_refuse_validly_signed_tokens_with_exact_errors() {
    let key = EsKey::generate("k1");
    let (fake, auth) = fake_project(&key).await;
    let iss = fake.issuer();
    let now = now_secs();
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "expired",
            json!({"exp": now - 1}),
            "invalid JWT: JWT has expired",
        ),
        (
            "expires now",
            json!({"exp": now}),
            "invalid JWT: JWT has expired",
        ),
        (
            "not yet valid",
            json!({"nbf": now + 600}),
            "invalid JWT: JWT is not valid yet",
        ),
        (
            "wrong issuer",
            json!({"iss": "https://evil.example.com/auth/v1"}),
            "invalid JWT: JWT issuer is not the expected one",
        ),
        (
            "no issuer",
            json!({"iss": null}),
            "invalid JWT: JWT issuer is not the expected one",
        ),
        (
            "wrong audience",
            json!({"aud": "anon"}),
            "invalid JWT: JWT audience is not the expected one",
        ),
        (
            "audience list without ours",
            json!({"aud": ["a", "b"]}),
            "invalid JWT: JWT audience is not the expected one",
        ),
        (
            "missing exp",
            json!({"exp": null}),
            "invalid JWT: JWT has no exp claim",
        ),
        (
            "exp zero",
            json!({"exp": 0}),
            "invalid JWT: JWT has no exp claim",
        ),
        (
            "missing sub",
            json!({"sub": null}),
            "invalid JWT: JWT has no sub claim",
        ),
        (
            "exp of the wrong type",
            json!({"exp": "tomorrow"}),
            "invalid JWT: malformed JWT: payload is not a valid claims object",
        ),
    ];
    for (name, changes, expected) in cases {
        let token = key.token(&payload_with(&iss, changes));
        let (result, jar) = claims_of(&auth, &token).await;
        assert_eq!(rejected(result), expected, "{name}");
        assert!(jar.set_all_calls().is_empty(), "{name}: cookies kept");
    }
    // A duplicated typed claim (the JSON is built by hand: a map cannot hold it).
    let dup = format!(
        "{}.{}.{}",
        b64(br#"{"alg":"ES256","kid":"k1"}"#),
        b64(format!(r#"{{"sub":"a","sub":"b","exp":{}}}"#, now + 60).as_bytes()),
        b64(b"sig")
    );
    let (result, _) = claims_of(&auth, &dup).await;
    assert_eq!(
        rejected(result),
        "invalid JWT: malformed JWT: payload is not a valid claims object"
    );
    // Positive control: an audience list holding ours is fine.
    let ok = key.token(&payload_with(&iss, json!({"aud": ["x", "authenticated"]})));
    assert!(claims_of(&auth, &ok).await.0.unwrap().is_some());
    assert_eq!(fake.counts.user(), 0, "no claim failure reaches the server");
}

#[tokio::test]
async fn header_tricks_are_refused() {
    let key = EsKey::generate("k1");
    let (fake, auth) = fake_project(&key).await;
    let claims = payload(&fake.issuer());
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "RS256 header on an ES256 key",
            key.sign(&json!({"alg": "RS256", "kid": "k1"}), &claims),
            "invalid JWT: JWT algorithm does not match its signing key",
        ),
        (
            "crit extension",
            key.sign(
                &json!({"alg": "ES256", "kid": "k1", "crit": ["b64"]}),
                &claims,
            ),
            "invalid JWT: malformed JWT: unsupported crit header",
        ),
        (
            "no alg",
            key.sign(&json!({"kid": "k1"}), &claims),
            "invalid JWT: malformed JWT: header has no alg",
        ),
        (
            "header is an array",
            format!(
                "{}.{}.{}",
                b64(b"[1]"),
                b64(claims.to_string().as_bytes()),
                b64(b"s")
            ),
            "invalid JWT: malformed JWT: header is not a valid JSON object",
        ),
        (
            "padded base64",
            format!("{}=", key.token(&claims)),
            "invalid JWT: malformed JWT: part is not unpadded base64url",
        ),
        (
            "four parts",
            format!("{}.e30", key.token(&claims)),
            "invalid JWT: malformed JWT: not three dot-separated parts",
        ),
    ];
    for (name, token, expected) in cases {
        let (result, jar) = claims_of(&auth, &token).await;
        assert_eq!(rejected(result), expected, "{name}");
        assert!(jar.set_all_calls().is_empty());
    }
    assert_eq!(fake.counts.user(), 0);

    // A 20 KB token: in a cookie it is over the session size cap (no session); as a
    // bearer token it is refused before decoding.
    let long = format!("{}.{}.x", b64(br#"{"alg":"ES256"}"#), "A".repeat(20_000));
    let (result, jar) = claims_of(&auth, &long).await;
    assert!(result.unwrap().is_none());
    assert!(jar.set_all_calls().is_empty());
    let err = auth
        .server_client(CookieJar::default())
        .verify_token(&long)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid JWT: malformed JWT: token too long"
    );
}

#[tokio::test]
async fn forged_tokens_against_the_emulator() {
    let emu = common::emulator().await;
    let auth = common::auth(&emu);
    let kid = emu.signing_kid().unwrap();
    let jwk = emu.jwks()["keys"][0].clone();
    let iss = emu.auth_url();
    let claims = payload(&iss);

    // HS256 with the published key as the secret: the server refuses it.
    let forged = hs256(
        jwk.to_string().as_bytes(),
        &json!({"alg": "HS256", "kid": kid, "typ": "JWT"}),
        &claims,
    );
    let err = auth
        .server_client(jar_with_token(&forged))
        .get_claims()
        .await
        .unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(403), Some("bad_jwt")));
    assert!(err.is_invalid_jwt() && !err.is_transient());

    // ES256 with our own key under the emulator's kid: refused locally.
    let impostor = EsKey::generate(&kid);
    let err = auth
        .server_client(jar_with_token(&impostor.token(&claims)))
        .get_claims()
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "invalid JWT: invalid JWT signature");

    // Our own key under a kid the emulator never published: the server refuses it.
    let stranger = EsKey::generate("kid-not-in-the-jwks");
    let err = auth
        .server_client(jar_with_token(&stranger.token(&claims)))
        .get_claims()
        .await
        .unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(403), Some("bad_jwt")));

    // The same paths through `verify_token` (an `Authorization: Bearer` token).
    let client = auth.server_client(CookieJar::default());
    for token in [forged, impostor.token(&claims), stranger.token(&claims)] {
        assert!(
            client
                .verify_token(&token)
                .await
                .unwrap_err()
                .is_invalid_jwt()
        );
    }
    assert_eq!(common::count_requests(&emu, "GET", "/user", None), 4);
}

// ---- Cookies ----

/// A valid-looking session value (base64) whose tokens are not checked by these tests.
fn session_value(refresh_token: &str) -> String {
    to_base64_value(&session_json("a.b.c", refresh_token, now_secs() + 3600))
}

/// `get_session` over these cookies: the outcome, the writes, and the time it took.
async fn read(
    auth: &SupabaseAuth,
    cookies: Vec<Cookie>,
) -> (Option<String>, Vec<Vec<(String, Option<i64>)>>, Duration) {
    let jar = Arc::new(CookieJar::new(cookies));
    let started = Instant::now();
    let session = auth.server_client(jar.clone()).get_session().await.unwrap();
    let took = started.elapsed();
    (
        session.map(|s| s.refresh_token().to_owned()),
        written(&jar.set_all_calls()),
        took,
    )
}

async fn fake_auth() -> (FakeAuth, SupabaseAuth) {
    fake_project(&EsKey::generate("k1")).await
}

#[tokio::test]
async fn undecodable_session_cookies_are_no_session_and_are_kept() {
    let (fake, auth) = fake_auth().await;
    let cases: Vec<(&str, String)> = vec![
        ("bad base64url", "base64-***not base64***".into()),
        (
            "base64 of broken JSON",
            to_base64_value("{\"access_token\":"),
        ),
        (
            "base64 of invalid UTF-8",
            format!("base64-{}", b64(&[0xff, 0xfe, 0x80, 0x7b])),
        ),
        ("empty base64", "base64-".into()),
        ("lone base64 character", "base64-e".into()),
        ("raw text that is not JSON", "hello".into()),
        ("raw broken JSON", "{\"access_token\":".into()),
    ];
    for (name, value) in cases {
        let (session, writes, _) = read(&auth, vec![Cookie::new(KEY, value)]).await;
        assert_eq!(session, None, "{name}");
        assert!(writes.is_empty(), "{name}: nothing is deleted");
    }
    assert_eq!(
        fake.counts.token() + fake.counts.user() + fake.counts.jwks(),
        0
    );
}

#[tokio::test]
async fn json_that_is_not_a_session_is_deleted() {
    let (fake, auth) = fake_auth().await;
    let cases: Vec<(&str, String)> = vec![
        ("raw object", "{\"foo\":1}".into()),
        ("base64 object", to_base64_value("{\"foo\":1}")),
        ("base64 string", to_base64_value("\"just a string\"")),
        ("base64 array", to_base64_value("[1,2,3]")),
        (
            "refresh token of the wrong type",
            to_base64_value(r#"{"access_token":"a","refresh_token":12345,"expires_at":1}"#),
        ),
        (
            "expires_at of the wrong type",
            to_base64_value(r#"{"access_token":"a","refresh_token":"r","expires_at":"soon"}"#),
        ),
    ];
    for (name, value) in cases {
        let (session, writes, _) = read(
            &auth,
            vec![Cookie::new(KEY, value), Cookie::new("theme", "dark")],
        )
        .await;
        assert_eq!(session, None, "{name}");
        assert_eq!(writes, vec![vec![(KEY.to_owned(), Some(0))]], "{name}");
    }
    assert_eq!(fake.counts.token(), 0);
}

#[tokio::test]
async fn chunks_with_gaps_or_mixed_generations_are_no_session() {
    let (_fake, auth) = fake_auth().await;
    // Sessions big enough for three chunks.
    let big = |rt: &str| {
        let mut v: Value =
            serde_json::from_str(&session_json("a.b.c", rt, now_secs() + 3600)).unwrap();
        v["user"]["user_metadata"] = json!({"bio": "x".repeat(6000)});
        to_base64_value(&v.to_string())
    };
    let chunks_a = create_chunks(KEY, &big("aaaaaaaaaaaa"));
    let chunks_b = create_chunks(KEY, &big("bbbbbbbbbbbb"));
    assert_eq!((chunks_a.len(), chunks_b.len()), (3, 3));
    let cookie = |c: &(String, String)| Cookie::new(c.0.clone(), c.1.clone());

    // Control: all chunks of one session.
    let whole: Vec<Cookie> = chunks_a.iter().map(cookie).collect();
    assert_eq!(read(&auth, whole).await.0.as_deref(), Some("aaaaaaaaaaaa"));

    // A gap: K.0 and K.2 only. Reading stops at the gap; the half is not JSON.
    let (session, writes, _) = read(&auth, vec![cookie(&chunks_a[0]), cookie(&chunks_a[2])]).await;
    assert_eq!((session, writes.len()), (None, 0));

    // Mixed generations of the same shape: the bytes splice into valid JSON, read as
    // the session whose tokens are in K.0. Those tokens are still verified like any.
    let mixed = vec![
        cookie(&chunks_a[0]),
        cookie(&chunks_a[1]),
        cookie(&chunks_b[2]),
    ];
    let (session, writes, _) = read(&auth, mixed).await;
    assert_eq!(
        (session.as_deref(), writes.len()),
        (Some("aaaaaaaaaaaa"), 0)
    );

    // Mixed generations of different sizes: a new two-chunk session with the K.2 of an
    // older three-chunk one left over. The tail makes it invalid JSON: no session.
    let small = {
        let mut v: Value =
            serde_json::from_str(&session_json("a.b.c", "cccccccccccc", now_secs() + 3600))
                .unwrap();
        v["user"]["user_metadata"] = json!({"bio": "y".repeat(3000)});
        create_chunks(KEY, &to_base64_value(&v.to_string()))
    };
    assert_eq!(small.len(), 2);
    let mixed = vec![cookie(&small[0]), cookie(&small[1]), cookie(&chunks_b[2])];
    let (session, writes, _) = read(&auth, mixed).await;
    assert_eq!((session, writes.len()), (None, 0));

    // A stale K.3 after a complete three-chunk session: read as part of the value.
    let mut stale: Vec<Cookie> = chunks_a.iter().map(cookie).collect();
    stale.push(Cookie::new(format!("{KEY}.3"), "base64-eyJ4Ijox"));
    let (session, writes, _) = read(&auth, stale).await;
    assert_eq!((session, writes.len()), (None, 0));
}

#[tokio::test]
async fn duplicated_cookie_names_keep_the_first() {
    let (_fake, auth) = fake_auth().await;
    let header = format!(
        "{KEY}={}; {KEY}={}",
        session_value("firstfirstfi"),
        session_value("secondsecond")
    );
    let jar = Arc::new(CookieJar::from_cookie_header(&header));
    let session = auth
        .server_client(jar)
        .get_session()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session.refresh_token(), "firstfirstfi");

    // Chunks too: the first `K.0` wins.
    let a = create_chunks(KEY, &session_value(&"a".repeat(4000)));
    let b = create_chunks(KEY, &session_value(&"b".repeat(4000)));
    let header = format!(
        "{}={}; {}={}; {}={}",
        a[0].0, a[0].1, b[0].0, b[0].1, a[1].0, a[1].1
    );
    let jar = Arc::new(CookieJar::from_cookie_header(&header));
    let session = auth
        .server_client(jar)
        .get_session()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session.refresh_token(), "a".repeat(4000));
}

#[tokio::test]
async fn ten_thousand_chunk_like_cookies_are_no_session_in_linear_time() {
    let (fake, auth) = fake_auth().await;
    let header: String = (0..10_000)
        .map(|i| format!("{KEY}.{i}=x"))
        .collect::<Vec<_>>()
        .join("; ");
    let started = Instant::now();
    let jar = Arc::new(CookieJar::from_cookie_header(&header));
    assert_eq!(jar.cookies().len(), 10_000);
    assert!(
        auth.server_client(jar.clone())
            .get_claims()
            .await
            .unwrap()
            .is_none()
    );
    assert!(jar.set_all_calls().is_empty());
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_eq!(
        fake.counts.token() + fake.counts.user() + fake.counts.jwks(),
        0
    );
}

#[tokio::test]
async fn signing_out_over_ten_thousand_chunk_cookies_deletes_them_all_in_linear_time() {
    let (_fake, auth) = fake_auth().await;
    let mut cookies = vec![Cookie::new(KEY, session_value("aaaaaaaaaaaa"))];
    cookies.extend((0..10_000).map(|i| Cookie::new(format!("{KEY}.{i}"), "x")));
    let jar = Arc::new(CookieJar::new(cookies));
    let started = Instant::now();
    let client = auth.server_client(jar.clone());
    // The logout call fails (the fake server has no /logout); the cookies go first.
    let _ = client.sign_out(supabase_ssr::SignOutScope::Local).await;
    let took = started.elapsed();
    let writes = written(&jar.set_all_calls());
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].len(), 10_001);
    assert!(writes[0].iter().all(|(_, age)| *age == Some(0)));
    assert!(jar.cookies().is_empty());
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[tokio::test]
async fn oversized_sessions_are_no_session() {
    let (fake, auth) = fake_auth().await;
    // 1 MiB in one cookie, and in a 1 MiB Cookie header.
    let huge = format!("base64-{}", "e".repeat(1 << 20));
    let (session, writes, took) = read(&auth, vec![Cookie::new(KEY, huge.clone())]).await;
    assert_eq!((session, writes.len()), (None, 0));
    assert!(took < Duration::from_secs(1), "{took:?}");
    let header = format!("{KEY}={huge}; other={}", "y".repeat(1 << 20));
    let started = Instant::now();
    let jar = Arc::new(CookieJar::from_cookie_header(&header));
    assert!(
        auth.server_client(jar.clone())
            .get_session()
            .await
            .unwrap()
            .is_none()
    );
    assert!(jar.set_all_calls().is_empty());
    assert!(started.elapsed() < Duration::from_secs(2));

    // A real session spread over six chunks, one more than the default cap of five.
    let mut v: Value =
        serde_json::from_str(&session_json("a.b.c", "r", now_secs() + 3600)).unwrap();
    v["user"]["user_metadata"] = json!({"bio": "x".repeat(12_500)});
    let six = create_chunks(KEY, &to_base64_value(&v.to_string()));
    assert_eq!(six.len(), 6);
    let cookies: Vec<Cookie> = six
        .iter()
        .map(|(n, v)| Cookie::new(n.clone(), v.clone()))
        .collect();
    assert_eq!(read(&auth, cookies.clone()).await.0, None);
    // The cap is configurable.
    let roomy = SupabaseAuth::builder(&fake.url, "k")
        .max_cookie_chunks(6)
        .build()
        .unwrap();
    assert_eq!(read(&roomy, cookies).await.0.as_deref(), Some("r"));
    // The same bytes in a single cookie are over the cap too.
    let single = to_base64_value(&v.to_string());
    assert_eq!(read(&auth, vec![Cookie::new(KEY, single)]).await.0, None);
}

#[tokio::test]
async fn deeply_nested_json_costs_no_recursion_and_grants_nothing() {
    let key = EsKey::generate("k1");
    let (fake, auth) = fake_project(&key).await;
    let depth = 5_000;
    let nested = format!(
        r#"{{"access_token":"a","refresh_token":"r","expires_at":{},"user":{}{}}}"#,
        now_secs() + 3600,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    // Values the session reader does not use are skipped without recursion, so the
    // session is read (base64 or raw) and its user is unreadable; the access token
    // inside is then verified like any other.
    for value in [to_base64_value(&nested), nested.clone()] {
        let jar = Arc::new(CookieJar::new(vec![Cookie::new(KEY, value)]));
        let client = auth.server_client(jar.clone());
        let session = client.get_session().await.unwrap().unwrap();
        assert_eq!(session.refresh_token(), "r");
        assert!(session.user().is_none());
        let err = client.get_claims().await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid JWT: malformed JWT: not three dot-separated parts"
        );
        assert!(jar.set_all_calls().is_empty());
    }
    // Inside a token's claims, nesting beyond serde_json's depth limit (128) is
    // refused as malformed, for typed and unknown claims alike.
    let deep = |n: usize| (0..n).fold(json!(1), |inner, _| json!([inner]));
    for (claim, n) in [("user_metadata", 200), ("custom", 200)] {
        let mut p = payload(&fake.issuer());
        p[claim] = json!({"x": deep(n)});
        let (result, _) = claims_of(&auth, &key.token(&p)).await;
        assert_eq!(
            rejected(result),
            "invalid JWT: malformed JWT: payload is not a valid claims object",
            "{claim}"
        );
    }
    let mut shallow = payload(&fake.issuer());
    shallow["custom"] = json!({"x": deep(100)});
    assert!(
        claims_of(&auth, &key.token(&shallow))
            .await
            .0
            .unwrap()
            .is_some()
    );
    assert_eq!(fake.counts.user(), 0);
}

#[tokio::test]
async fn refresh_tokens_of_the_wrong_shape_end_the_session_at_the_server() {
    let emu = common::emulator().await;
    let auth = common::auth(&emu);
    let cases = [
        ("empty", String::new(), "validation_failed"),
        ("too short", "abc".to_owned(), "validation_failed"),
        ("long", "z".repeat(4000), "validation_failed"),
        (
            "control characters",
            "\u{0}\u{1b}[2J\r\nxxx".to_owned(),
            "validation_failed",
        ),
        ("unicode", "ééééééééééé€".to_owned(), "validation_failed"),
        (
            "right shape, unknown",
            "zzzzzzzzzzzz".to_owned(),
            "refresh_token_not_found",
        ),
    ];
    for (name, rt, code) in cases {
        emu.clear_requests();
        let expired = to_base64_value(&session_json("a.b.c", &rt, now_secs() - 10));
        let jar = Arc::new(CookieJar::new(vec![Cookie::new(KEY, expired)]));
        let err = auth
            .server_client(jar.clone())
            .get_claims()
            .await
            .unwrap_err();
        assert_eq!(
            (err.status(), err.code()),
            (Some(400), Some(code)),
            "{name}"
        );
        assert!(!err.is_transient());
        assert_eq!(
            written(&jar.set_all_calls()),
            vec![vec![(KEY.to_owned(), Some(0))]],
            "{name}"
        );
        assert_eq!(
            common::count_requests(&emu, "POST", "/token", Some("grant_type=refresh_token")),
            1,
            "{name}: one refresh attempt, no retry"
        );
    }
}

#[tokio::test]
async fn bearer_tokens_of_any_shape_are_refused() {
    let (fake, auth) = fake_auth().await;
    let client = auth.server_client(CookieJar::default());
    for (token, expected) in [
        (
            "",
            "invalid JWT: malformed JWT: not three dot-separated parts",
        ),
        (
            "..",
            "invalid JWT: malformed JWT: header is not a valid JSON object",
        ),
        (
            "a.b.c",
            "invalid JWT: malformed JWT: part is not unpadded base64url",
        ),
        ("e30.e30.", "invalid JWT: malformed JWT: header has no alg"),
        (
            "\u{0}.\u{0}.\u{0}",
            "invalid JWT: malformed JWT: part is not unpadded base64url",
        ),
    ] {
        assert_eq!(
            client.verify_token(token).await.unwrap_err().to_string(),
            expected,
            "{token:?}"
        );
    }
    assert_eq!(fake.counts.user() + fake.counts.jwks(), 0);
}

// ---- Properties ----

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

/// A runtime and a project on a fake Auth server, for the synchronous proptest runner.
struct Harness {
    runtime: tokio::runtime::Runtime,
    auth: SupabaseAuth,
    key: EsKey,
    issuer: String,
    _fake: FakeAuth,
}

impl Harness {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let key = EsKey::generate("k1");
        let fake = runtime.block_on(FakeAuth::start(vec![key.jwk.clone()]));
        let auth = SupabaseAuth::builder(&fake.url, "k")
            .retry_budget(Duration::from_millis(200))
            .build()
            .unwrap();
        let issuer = fake.issuer();
        Self {
            runtime,
            auth,
            key,
            issuer,
            _fake: fake,
        }
    }
}

#[test]
fn arbitrary_cookie_headers_never_panic_and_never_yield_claims() {
    let h = Harness::new();
    let name = prop_oneof![
        Just(KEY.to_owned()),
        (0u8..8).prop_map(|i| format!("{KEY}.{i}")),
        Just(format!("{KEY}-code-verifier")),
        "[a-z.-]{0,12}",
    ];
    let value = prop_oneof![
        any::<String>(),
        "base64-[A-Za-z0-9_=+/-]{0,60}",
        "[%;= \t\"{}:,a-z0-9]{0,80}",
        Just(to_base64_value(
            "{\"access_token\":\"a.b.c\",\"refresh_token\":\"r\",\"expires_at\":99999999999}"
        )),
    ];
    let header = prop_oneof![
        prop::collection::vec((name, value), 0..12).prop_map(|pairs| {
            let cookies: Vec<Cookie> = pairs.into_iter().map(|(n, v)| Cookie::new(n, v)).collect();
            cookie_header_value(&cookies)
        }),
        any::<String>(),
    ];
    runner(400)
        .run(&header, |header| {
            let jar = Arc::new(CookieJar::from_cookie_header(&header));
            let result = h.runtime.block_on(h.auth.server_client(jar).get_claims());
            prop_assert!(!matches!(result, Ok(Some(_))), "accepted: {header:?}");
            Ok(())
        })
        .unwrap();
}

#[test]
fn arbitrary_jwt_shaped_strings_are_never_accepted() {
    let h = Harness::new();
    let part = "[A-Za-z0-9_-]{0,120}";
    let random_parts = (part, part, part).prop_map(|(a, b, c)| format!("{a}.{b}.{c}"));
    let issuer = h.issuer.clone();
    let kid = h.key.kid.clone();
    let structured = (
        prop_oneof![
            prop::sample::select(vec!["ES256", "RS256", "EdDSA", "HS256", "none", "PS256"])
                .prop_map(str::to_owned),
            "[A-Za-z0-9]{0,8}",
        ],
        prop_oneof![
            Just(Some(kid)),
            Just(None),
            "[a-z0-9-]{0,16}".prop_map(Some)
        ],
        any::<i64>(),
        prop_oneof![Just(issuer), "[a-z:/.]{0,30}"],
        prop::collection::vec(any::<u8>(), 0..80),
    )
        .prop_map(|(alg, kid, exp, iss, sig)| {
            let mut header = json!({"alg": alg, "typ": "JWT"});
            if let Some(kid) = kid {
                header["kid"] = json!(kid);
            }
            let claims = json!({"iss": iss, "sub": "u", "aud": "authenticated", "exp": exp});
            unsigned(&header, &claims, &b64(&sig))
        });
    let strategy = prop_oneof![random_parts, structured, any::<String>()];
    let client = h.auth.server_client(CookieJar::default());
    runner(400)
        .run(&strategy, |token| {
            let result = h.runtime.block_on(client.verify_token(&token));
            prop_assert!(result.is_err(), "accepted: {token:?}");
            Ok(())
        })
        .unwrap();
}
