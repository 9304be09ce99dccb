//! Key generation and loading with aws-lc-rs, and the public JWK of each key.

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair,
    RsaPublicKeyComponents,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde_json::{Value, json};

use crate::SigningAlg;
use crate::error::{EmulatorError, ErrorKind};

/// An asymmetric signing key, ready to sign and verify.
pub(crate) struct SigningKey {
    pub(crate) kid: String,
    pub(crate) alg: SigningAlg,
    pub(crate) encoding: EncodingKey,
    pub(crate) decoding: DecodingKey,
    /// The public JWK as published in the JWKS.
    pub(crate) jwk: Value,
    pub(crate) created_at: i64,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// The jsonwebtoken algorithm of this key.
    pub(crate) fn algorithm(&self) -> Algorithm {
        jwt_algorithm(self.alg)
    }
}

/// The jsonwebtoken algorithm for a signing algorithm.
pub(crate) fn jwt_algorithm(alg: SigningAlg) -> Algorithm {
    match alg {
        SigningAlg::Es256 => Algorithm::ES256,
        SigningAlg::Rs256 => Algorithm::RS256,
        SigningAlg::EdDsa => Algorithm::EdDSA,
        SigningAlg::Hs256 => Algorithm::HS256,
    }
}

fn key_err(msg: &str) -> EmulatorError {
    EmulatorError::new(ErrorKind::Keys, msg)
}

/// Generates a new private key for `alg`, as PKCS#8 DER.
pub(crate) fn generate_pkcs8(alg: SigningAlg) -> Result<Vec<u8>, EmulatorError> {
    match alg {
        SigningAlg::Es256 => {
            let kp = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                .map_err(|_| key_err("cannot generate an EC P-256 key"))?;
            let doc = kp
                .to_pkcs8v1()
                .map_err(|_| key_err("cannot encode an EC key"))?;
            Ok(doc.as_ref().to_vec())
        }
        SigningAlg::EdDsa => {
            let kp = Ed25519KeyPair::generate()
                .map_err(|_| key_err("cannot generate an Ed25519 key"))?;
            let doc = kp
                .to_pkcs8()
                .map_err(|_| key_err("cannot encode an Ed25519 key"))?;
            Ok(doc.as_ref().to_vec())
        }
        SigningAlg::Rs256 => {
            let kp = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                .map_err(|_| key_err("cannot generate an RSA key"))?;
            let der: aws_lc_rs::encoding::Pkcs8V1Der<'static> = kp
                .as_der()
                .map_err(|_| key_err("cannot encode an RSA key"))?;
            Ok(der.as_ref().to_vec())
        }
        SigningAlg::Hs256 => Err(EmulatorError::new(
            ErrorKind::InvalidInput,
            "HS256 signs with the shared JWT secret; it has no key pair",
        )),
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Builds a usable key from stored PKCS#8 DER.
pub(crate) fn load(
    kid: &str,
    alg: SigningAlg,
    pkcs8: &[u8],
    created_at: i64,
) -> Result<SigningKey, EmulatorError> {
    let (encoding, decoding, jwk) = match alg {
        SigningAlg::Es256 => {
            let kp = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
                .map_err(|_| key_err("stored EC key is invalid"))?;
            let point = kp.public_key().as_ref();
            // Uncompressed SEC1 point: 0x04 || x (32 bytes) || y (32 bytes).
            let (Some(x), Some(y)) = (point.get(1..33), point.get(33..65)) else {
                return Err(key_err("unexpected EC public key encoding"));
            };
            let jwk = json!({
                "alg": "ES256", "crv": "P-256", "ext": true, "key_ops": ["verify"], "kid": kid,
                "kty": "EC", "use": "sig", "x": b64(x), "y": b64(y)
            });
            (
                EncodingKey::from_ec_der(pkcs8),
                DecodingKey::from_ec_der(point),
                jwk,
            )
        }
        SigningAlg::EdDsa => {
            let kp = Ed25519KeyPair::from_pkcs8(pkcs8)
                .map_err(|_| key_err("stored Ed25519 key is invalid"))?;
            let public = kp.public_key().as_ref();
            let jwk = json!({
                "alg": "EdDSA", "crv": "Ed25519", "ext": true, "key_ops": ["verify"], "kid": kid,
                "kty": "OKP", "use": "sig", "x": b64(public)
            });
            (
                EncodingKey::from_ed_der(pkcs8),
                DecodingKey::from_ed_der(public),
                jwk,
            )
        }
        SigningAlg::Rs256 => {
            let kp =
                RsaKeyPair::from_pkcs8(pkcs8).map_err(|_| key_err("stored RSA key is invalid"))?;
            let parts = RsaPublicKeyComponents::<Vec<u8>>::from(kp.public_key());
            let pkcs1 =
                pkcs8_private_key(pkcs8).ok_or_else(|| key_err("stored RSA key is not PKCS#8"))?;
            let jwk = json!({
                "alg": "RS256", "e": b64(&parts.e), "ext": true, "key_ops": ["verify"], "kid": kid,
                "kty": "RSA", "n": b64(&parts.n), "use": "sig"
            });
            (
                EncodingKey::from_rsa_der(pkcs1),
                DecodingKey::from_rsa_raw_components(&parts.n, &parts.e),
                jwk,
            )
        }
        SigningAlg::Hs256 => {
            return Err(EmulatorError::new(
                ErrorKind::InvalidInput,
                "HS256 has no key pair",
            ));
        }
    };
    Ok(SigningKey {
        kid: kid.into(),
        alg,
        encoding,
        decoding,
        jwk,
        created_at,
    })
}

/// Reads one DER TLV: returns (tag, contents, rest).
fn der_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// Extracts the inner `privateKey` (for RSA: the PKCS#1 `RSAPrivateKey`) from a
/// PKCS#8 `PrivateKeyInfo`, which is what jsonwebtoken's RSA signer expects.
fn pkcs8_private_key(pkcs8: &[u8]) -> Option<&[u8]> {
    let (0x30, info, _) = der_tlv(pkcs8)? else {
        return None;
    };
    let (0x02, _version, rest) = der_tlv(info)? else {
        return None;
    };
    let (0x30, _algorithm, rest) = der_tlv(rest)? else {
        return None;
    };
    let (0x04, private_key, _) = der_tlv(rest)? else {
        return None;
    };
    Some(private_key)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn generated_keys_sign_and_verify() {
        for alg in [SigningAlg::Es256, SigningAlg::EdDsa, SigningAlg::Rs256] {
            let der = generate_pkcs8(alg).unwrap();
            let key = load("kid-1", alg, &der, 0).unwrap();
            let mut header = jsonwebtoken::Header::new(key.algorithm());
            header.kid = Some(key.kid.clone());
            let token = jsonwebtoken::encode(
                &header,
                &json!({"sub": "x", "exp": 4_000_000_000u64}),
                &key.encoding,
            )
            .unwrap();
            let mut v = jsonwebtoken::Validation::new(key.algorithm());
            v.validate_aud = false;
            let data = jsonwebtoken::decode::<Value>(&token, &key.decoding, &v).unwrap();
            assert_eq!(data.claims["sub"], "x");
            assert_eq!(key.jwk["kid"], "kid-1");
            assert_eq!(key.jwk["key_ops"], json!(["verify"]));
        }
    }
}
