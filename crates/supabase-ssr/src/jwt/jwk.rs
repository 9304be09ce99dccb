//! Turning a JWKS document into ready-to-use verification keys, once per fetch.

use std::collections::HashMap;
use std::sync::Arc;

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ED25519, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256,
    VerificationAlgorithm,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde::Deserialize;
use serde::de::IgnoredAny;

/// A public key and the one algorithm it may verify. The algorithm comes from the JWK,
/// never from a token header.
pub(crate) struct VerifyKey {
    /// Parsed once, when the JWKS is fetched: parsing on every verification costs more
    /// than the rest of a cache miss for RS256 and EdDSA. For RSA, aws-lc also keeps the
    /// Montgomery context it computes on first use with the parsed key.
    key: ParsedPublicKey,
    pub(crate) alg: Algorithm,
}

impl VerifyKey {
    /// Whether `signature` is this key's signature of `message`, by the JWK's algorithm:
    /// ES256 takes the 64-byte `r || s` form JWS uses, RS256 PKCS#1 v1.5 with a 2048 to
    /// 8192-bit modulus, EdDSA Ed25519.
    pub(crate) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key.verify_sig(message, signature).is_ok()
    }

    /// The bytes the key was parsed from: the SEC1 point, the PKCS#1 `RSAPublicKey`
    /// (minimal integers, so the same `n` and `e` always give the same bytes), or the
    /// Ed25519 key.
    fn material(&self) -> &[u8] {
        self.key.as_ref()
    }
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
                        a.alg == b.alg && a.material() == b.material()
                    }
                    _ => false,
                })
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
    /// The key, if it is a signature-verification key of an algorithm we accept and
    /// aws-lc accepts its material. Symmetric (`oct`) keys never get here.
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
        let (verification, material): (&'static dyn VerificationAlgorithm, Vec<u8>) = match alg {
            Algorithm::ES256 if kty == "EC" && crv == Some("P-256") => {
                let x = fixed::<32>(self.x.as_deref()?)?;
                let y = fixed::<32>(self.y.as_deref()?)?;
                // SEC1 uncompressed point, the form aws-lc's fixed ECDSA verifier takes.
                let mut point = Vec::with_capacity(65);
                point.push(0x04);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                (&ECDSA_P256_SHA256_FIXED, point)
            }
            Algorithm::RS256 if kty == "RSA" => {
                let n = b64(self.n.as_deref()?)?;
                let e = b64(self.e.as_deref()?)?;
                let n = without_leading_zeros(&n);
                let e = without_leading_zeros(&e);
                if !(RSA_MIN_MODULUS_BYTES..=RSA_MAX_MODULUS_BYTES).contains(&n.len())
                    || e.is_empty()
                {
                    return None;
                }
                (&RSA_PKCS1_2048_8192_SHA256, rsa_public_key_der(n, e))
            }
            Algorithm::EdDSA if kty == "OKP" && crv == Some("Ed25519") => {
                (&ED25519, fixed::<32>(self.x.as_deref()?)?.to_vec())
            }
            _ => return None,
        };
        // Rejects points off the curve and RSA keys aws-lc would not verify with.
        let key = ParsedPublicKey::new(verification, material).ok()?;
        Some(VerifyKey { key, alg })
    }
}

fn without_leading_zeros(bytes: &[u8]) -> &[u8] {
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    bytes.get(zeros..).unwrap_or_default()
}

/// PKCS#1 `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }` in DER,
/// from big-endian `n` and `e` without leading zeros (and not empty).
pub(super) fn rsa_public_key_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(n.len() + e.len() + 10);
    der_unsigned_integer(&mut body, n);
    der_unsigned_integer(&mut body, e);
    let mut der = Vec::with_capacity(body.len() + 4);
    der.push(0x30);
    der_length(&mut der, body.len());
    der.extend_from_slice(&body);
    der
}

/// A non-negative INTEGER: DER integers are two's complement, so a leading 0x00 keeps a
/// value whose top bit is set positive (and is then the only leading zero allowed).
fn der_unsigned_integer(out: &mut Vec<u8>, value: &[u8]) {
    let pad = value.first().is_some_and(|b| b & 0x80 != 0);
    out.push(0x02);
    der_length(out, value.len() + usize::from(pad));
    if pad {
        out.push(0x00);
    }
    out.extend_from_slice(value);
}

/// A DER length: one byte below 128, else 0x80 | the count of big-endian length bytes,
/// then those bytes without leading zeros.
fn der_length(out: &mut Vec<u8>, len: usize) {
    match u8::try_from(len) {
        Ok(short) if short < 0x80 => out.push(short),
        _ => {
            let bytes = len.to_be_bytes();
            let significant = without_leading_zeros(&bytes);
            // At most size_of::<usize>() bytes, so the count fits in the low 7 bits.
            out.push(0x80 | (significant.len() as u8));
            out.extend_from_slice(significant);
        }
    }
}

fn b64(value: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(value).ok()
}

fn fixed<const N: usize>(value: &str) -> Option<[u8; N]> {
    b64(value)?.try_into().ok()
}
