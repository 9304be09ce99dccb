//! Turning a JWKS document into ready-to-use verification keys, once per fetch.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, DecodingKeyKind};
use serde::Deserialize;
use serde::de::IgnoredAny;

/// A public key and the one algorithm it may verify. The algorithm comes from the JWK,
/// never from a token header.
pub(crate) struct VerifyKey {
    pub(crate) key: DecodingKey,
    pub(crate) alg: Algorithm,
}

impl std::fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyKey")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// What the JWKS says about one `kid`.
#[derive(Debug, Clone)]
pub(crate) enum KeyEntry {
    /// ES256, RS256 or EdDSA public key we can verify with.
    Usable(Arc<VerifyKey>),
    /// Published, but not something we verify locally: another algorithm (RS512, ES512,
    /// HS*), `kty: "oct"`, `use` other than `sig`, `key_ops` without `verify`, or bad key
    /// material. Tokens naming it go to the Auth server without a JWKS refetch.
    Unsupported,
}

/// The keys of one JWKS fetch, by `kid`.
#[derive(Debug, Default)]
pub(crate) struct KeySet {
    entries: HashMap<Box<str>, KeyEntry>,
}

/// The document is not a JWKS (not JSON, or no `keys` array).
#[derive(Debug)]
pub(crate) struct NotAJwks;

impl KeySet {
    /// Parses a JWKS document. A key that cannot be read is skipped rather than failing the
    /// whole set; a key without a `kid` is skipped because nothing can name it.
    pub(crate) fn parse(json: &[u8]) -> Result<Self, NotAJwks> {
        let doc: JwksDoc = serde_json::from_slice(json).map_err(|_| NotAJwks)?;
        let mut entries = HashMap::with_capacity(doc.keys.len());
        for jwk in doc.keys {
            let MaybeJwk::Jwk(jwk) = jwk else { continue };
            let Some(kid) = jwk.kid.as_deref().filter(|kid| !kid.is_empty()) else {
                continue;
            };
            let entry = jwk
                .verify_key()
                .map_or(KeyEntry::Unsupported, |key| KeyEntry::Usable(Arc::new(key)));
            // auth-js takes the first key with a matching kid; we do too, except that a
            // usable key wins over an unusable one.
            match entries.get(kid) {
                None | Some(KeyEntry::Unsupported) => {
                    entries.insert(Box::from(kid), entry);
                }
                Some(KeyEntry::Usable(_)) => {}
            }
        }
        Ok(Self { entries })
    }

    pub(crate) fn get(&self, kid: &str) -> Option<&KeyEntry> {
        self.entries.get(kid)
    }

    #[cfg(test)]
    pub(crate) fn contains(&self, kid: &str) -> bool {
        self.entries.contains_key(kid)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Same kids with the same algorithms and key material.
    pub(crate) fn same_keys(&self, other: &Self) -> bool {
        self.entries.len() == other.entries.len()
            && self
                .entries
                .iter()
                .all(|(kid, a)| match (a, other.entries.get(kid)) {
                    (KeyEntry::Unsupported, Some(KeyEntry::Unsupported)) => true,
                    (KeyEntry::Usable(a), Some(KeyEntry::Usable(b))) => {
                        a.alg == b.alg && same_material(a.key.kind(), b.key.kind())
                    }
                    _ => false,
                })
    }
}

fn same_material(a: &DecodingKeyKind, b: &DecodingKeyKind) -> bool {
    match (a, b) {
        (DecodingKeyKind::SecretOrDer(a), DecodingKeyKind::SecretOrDer(b)) => a == b,
        (
            DecodingKeyKind::RsaModulusExponent { n: an, e: ae },
            DecodingKeyKind::RsaModulusExponent { n: bn, e: be },
        ) => an == bn && ae == be,
        _ => false,
    }
}

#[derive(Deserialize)]
struct JwksDoc {
    keys: Vec<MaybeJwk>,
}

/// One element of `keys`: a JWK we can read, or anything else (kept out of the way so one
/// odd key does not make the whole JWKS unusable). Parsing happens once per fetch, so the
/// buffering this costs does not matter.
#[derive(Deserialize)]
#[serde(untagged)]
enum MaybeJwk {
    Jwk(Box<RawJwk>),
    #[allow(dead_code)]
    Other(IgnoredAny),
}

#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default, rename = "use")]
    use_: Option<String>,
    #[serde(default)]
    key_ops: Option<Vec<String>>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
}

/// RSA moduli outside what aws-lc's RS256 verifier accepts (2048 to 8192 bits) would only
/// ever give "bad signature"; sending such tokens to the server is more useful.
const RSA_MIN_MODULUS_BYTES: usize = 2048 / 8;
const RSA_MAX_MODULUS_BYTES: usize = 8192 / 8;

impl RawJwk {
    /// The key, if it is a signature-verification key of an algorithm we accept. Symmetric
    /// (`oct`) keys never get here: `DecodingKey::from_jwk` would make them HMAC keys.
    fn verify_key(&self) -> Option<VerifyKey> {
        if self.use_.as_deref().is_some_and(|u| u != "sig") {
            return None;
        }
        if let Some(ops) = &self.key_ops
            && !ops.iter().any(|op| op == "verify")
        {
            return None;
        }
        let kty = self.kty.as_str();
        let crv = self.crv.as_deref();
        let alg = match self.alg.as_deref() {
            Some("ES256") => Algorithm::ES256,
            Some("RS256") => Algorithm::RS256,
            Some("EdDSA") => Algorithm::EdDSA,
            Some(_) => return None,
            None => match (kty, crv) {
                ("EC", Some("P-256")) => Algorithm::ES256,
                ("RSA", _) => Algorithm::RS256,
                ("OKP", Some("Ed25519")) => Algorithm::EdDSA,
                _ => return None,
            },
        };
        let key = match alg {
            Algorithm::ES256 if kty == "EC" && crv == Some("P-256") => {
                let x = fixed::<32>(self.x.as_deref()?)?;
                let y = fixed::<32>(self.y.as_deref()?)?;
                // SEC1 uncompressed point, the form aws-lc's fixed ECDSA verifier takes.
                let mut point = [0u8; 65];
                point[0] = 0x04;
                point[1..33].copy_from_slice(&x);
                point[33..].copy_from_slice(&y);
                DecodingKey::from_ec_der(&point)
            }
            Algorithm::RS256 if kty == "RSA" => {
                let n = b64(self.n.as_deref()?)?;
                let e = b64(self.e.as_deref()?)?;
                let significant = n.iter().skip_while(|b| **b == 0).count();
                if !(RSA_MIN_MODULUS_BYTES..=RSA_MAX_MODULUS_BYTES).contains(&significant)
                    || e.iter().all(|b| *b == 0)
                {
                    return None;
                }
                DecodingKey::from_rsa_raw_components(&n, &e)
            }
            Algorithm::EdDSA if kty == "OKP" && crv == Some("Ed25519") => {
                DecodingKey::from_ed_der(&fixed::<32>(self.x.as_deref()?)?)
            }
            _ => return None,
        };
        Some(VerifyKey { key, alg })
    }
}

fn b64(value: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(value).ok()
}

fn fixed<const N: usize>(value: &str) -> Option<[u8; N]> {
    b64(value)?.try_into().ok()
}
