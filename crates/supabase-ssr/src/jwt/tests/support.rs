//! Real keys, token signing, an in-memory JWKS source with a call counter.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

use crate::clock::ManualClock;
use crate::jwt::{JwksFetchError, JwksSource, JwtConfig, JwtVerifier};

/// 2025-10-09T08:53:20Z, in milliseconds.
pub(super) const T0_MS: i64 = 1_760_000_000_000;
pub(super) const T0: i64 = T0_MS / 1000;
pub(super) const ISS: &str = "https://abc.supabase.co/auth/v1";

pub(super) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A signing key with its public JWK.
pub(super) struct TestKey {
    pub(super) kid: String,
    pub(super) alg: Algorithm,
    pub(super) encoding: EncodingKey,
    pub(super) jwk: Value,
    /// The raw public key bytes (EC point, Ed25519 key, RSA modulus), for confusion tests.
    pub(super) public: Vec<u8>,
}

impl TestKey {
    /// Signs `<b64 header>.<b64 payload>` with this key, whatever the header says.
    pub(super) fn sign(&self, header: &Value, payload: &Value) -> String {
        sign_with(&self.encoding, self.alg, header, payload)
    }

    /// A standard header (`alg` of the key, its `kid`, `typ: JWT`) over `payload`.
    pub(super) fn token(&self, payload: &Value) -> String {
        let header = json!({"alg": alg_name(self.alg), "kid": self.kid, "typ": "JWT"});
        self.sign(&header, payload)
    }
}

pub(super) fn sign_with(
    key: &EncodingKey,
    alg: Algorithm,
    header: &Value,
    payload: &Value,
) -> String {
    let message = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    );
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).unwrap();
    format!("{message}.{signature}")
}

/// `<b64 header>.<b64 payload>.<signature>` with no signing at all.
pub(super) fn unsigned(header: &Value, payload: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    )
}

pub(super) fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::ES256 => "ES256",
        Algorithm::RS256 => "RS256",
        Algorithm::EdDSA => "EdDSA",
        Algorithm::HS256 => "HS256",
        other => panic!("no test name for {other:?}"),
    }
}

pub(super) fn es256_key(kid: &str) -> TestKey {
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        &aws_lc_rs::rand::SystemRandom::new(),
    )
    .unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
    let point = pair.public_key().as_ref().to_vec();
    assert_eq!(point.len(), 65);
    // The shape Supabase Auth publishes (reference §5.4).
    let jwk = json!({
        "alg": "ES256", "crv": "P-256", "ext": true, "key_ops": ["verify"], "kid": kid,
        "kty": "EC", "use": "sig", "x": b64(&point[1..33]), "y": b64(&point[33..]),
    });
    TestKey {
        kid: kid.to_owned(),
        alg: Algorithm::ES256,
        encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
        jwk,
        public: point,
    }
}

pub(super) fn eddsa_key(kid: &str) -> TestKey {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&aws_lc_rs::rand::SystemRandom::new()).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let public = pair.public_key().as_ref().to_vec();
    let jwk = json!({
        "kty": "OKP", "crv": "Ed25519", "x": b64(&public), "kid": kid,
        "alg": "EdDSA", "use": "sig", "key_ops": ["verify"],
    });
    TestKey {
        kid: kid.to_owned(),
        alg: Algorithm::EdDSA,
        encoding: EncodingKey::from_ed_der(pkcs8.as_ref()),
        jwk,
        public,
    }
}

pub(super) fn rs256_key(kid: &str) -> TestKey {
    let pair = aws_lc_rs::rsa::KeyPair::generate(KeySize::Rsa2048).unwrap();
    let pkcs8: aws_lc_rs::encoding::Pkcs8V1Der<'_> = pair.as_der().unwrap();
    let components = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
    let jwk = json!({
        "kty": "RSA", "n": b64(&components.n), "e": b64(&components.e),
        "alg": "RS256", "kid": kid, "use": "sig", "key_ops": ["verify"],
    });
    TestKey {
        kid: kid.to_owned(),
        alg: Algorithm::RS256,
        // jsonwebtoken signs RS256 with a PKCS#1 RSAPrivateKey.
        encoding: EncodingKey::from_rsa_der(pkcs1_from_pkcs8(pkcs8.as_ref())),
        jwk,
        public: components.n,
    }
}

/// The RSAPrivateKey inside a PKCS#8 PrivateKeyInfo
/// (`SEQUENCE { INTEGER, SEQUENCE { OID, NULL }, OCTET STRING { RSAPrivateKey } }`).
fn pkcs1_from_pkcs8(der: &[u8]) -> &[u8] {
    fn tlv(input: &[u8], tag: u8) -> (&[u8], &[u8]) {
        assert_eq!(input[0], tag);
        let (len, header) = if input[1] < 0x80 {
            (usize::from(input[1]), 2)
        } else {
            let n = usize::from(input[1] & 0x7f);
            let len = input[2..2 + n]
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            (len, 2 + n)
        };
        (&input[header..header + len], &input[header + len..])
    }
    let (info, _) = tlv(der, 0x30);
    let (_, rest) = tlv(info, 0x02);
    let (_, rest) = tlv(rest, 0x30);
    tlv(rest, 0x04).0
}

/// Keys shared by every test in the binary: generating RSA keys is slow in debug builds.
pub(super) struct Keys {
    pub(super) es: TestKey,
    /// A different P-256 key published under nothing; signs "same kid, wrong key" tokens.
    pub(super) es_other: TestKey,
    pub(super) rs: TestKey,
    pub(super) ed: TestKey,
}

pub(super) fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        es: es256_key("es-1"),
        es_other: es256_key("es-1"),
        rs: rs256_key("rs-1"),
        ed: eddsa_key("ed-1"),
    })
}

pub(super) fn jwks(keys: &[&Value]) -> Vec<u8> {
    json!({ "keys": keys }).to_string().into_bytes()
}

/// The JWKS with the ES256, RS256 and EdDSA keys.
pub(super) fn all_keys_jwks() -> Vec<u8> {
    let k = keys();
    jwks(&[&k.es.jwk, &k.rs.jwk, &k.ed.jwk])
}

/// A Supabase-shaped payload valid from T0 for an hour.
pub(super) fn payload() -> Value {
    json!({
        "iss": ISS,
        "sub": "8d4e3a6c-2b1f-4f0e-9a7d-5c6b4a3e2d1f",
        "aud": "authenticated",
        "exp": T0 + 3600,
        "iat": T0,
        "email": "a@b.co",
        "phone": "",
        "app_metadata": {"provider": "email", "providers": ["email"]},
        "user_metadata": {},
        "role": "authenticated",
        "aal": "aal1",
        "amr": [{"method": "password", "timestamp": T0}],
        "session_id": "0b9f3c1e-7a2d-4c5b-8e6f-1a2b3c4d5e6f",
        "is_anonymous": false
    })
}

/// `payload()` with `changes` merged in; a `null` change removes the claim.
pub(super) fn payload_with(changes: Value) -> Value {
    let mut p = payload();
    let map = p.as_object_mut().unwrap();
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            map.remove(k);
        } else {
            map.insert(k.clone(), v.clone());
        }
    }
    p
}

/// An in-memory JWKS endpoint: its answer can be changed, calls are counted, and each
/// fetch can be made to take a while (in real time) so concurrent callers pile up.
#[derive(Default)]
pub(super) struct FakeSource {
    body: Mutex<Option<Vec<u8>>>,
    calls: AtomicUsize,
    delay: Mutex<Option<Duration>>,
}

impl FakeSource {
    pub(super) fn serving(body: Vec<u8>) -> Arc<Self> {
        let source = Arc::new(Self::default());
        source.serve(body);
        source
    }

    pub(super) fn down() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub(super) fn serve(&self, body: Vec<u8>) {
        *self.body.lock().unwrap() = Some(body);
    }

    pub(super) fn go_down(&self) {
        *self.body.lock().unwrap() = None;
    }

    pub(super) fn set_delay(&self, delay: Duration) {
        *self.delay.lock().unwrap() = Some(delay);
    }

    pub(super) fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl JwksSource for FakeSource {
    fn fetch(&self) -> Pin<Box<dyn Future<Output = Result<Vec<u8>, JwksFetchError>> + Send + '_>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let delay = *self.delay.lock().unwrap();
            if let Some(delay) = delay {
                tokio::time::sleep(delay).await;
            }
            let body = self.body.lock().unwrap().clone();
            body.ok_or_else(|| JwksFetchError::new("503 Service Unavailable"))
        })
    }
}

pub(super) fn config() -> JwtConfig {
    JwtConfig::for_auth_url(ISS)
}

pub(super) fn verifier_with(
    config: JwtConfig,
    source: &Arc<FakeSource>,
) -> (JwtVerifier, ManualClock) {
    let clock = ManualClock::new(T0_MS);
    let verifier = JwtVerifier::new(config, source.clone(), Arc::new(clock.clone()));
    (verifier, clock)
}

pub(super) fn verifier(source: &Arc<FakeSource>) -> (JwtVerifier, ManualClock) {
    verifier_with(config(), source)
}

pub(super) fn minutes(m: i64) -> i64 {
    m * 60 * 1000
}
