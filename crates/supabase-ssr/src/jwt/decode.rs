//! Splitting and decoding a compact JWS the way auth-js's `decodeJWT` does. Nothing here
//! checks a signature or a claim.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::JwtError;
use super::claims::{Claims, Key};

/// Longest token we look at. Supabase access tokens are well under 4 KiB even with large
/// metadata; anything longer is refused before any decoding work.
pub(crate) const MAX_TOKEN_LEN: usize = 16 * 1024;

/// The header's `alg`, sorted into the cases verification treats differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderAlg {
    /// `none`, in any letter case.
    None,
    /// Starts with `HS`: a shared secret only the Auth server knows.
    Hmac,
    /// An algorithm jsonwebtoken knows (ES256, RS256, EdDSA, ES384, PS256, ...).
    Known(Algorithm),
    /// Anything else; it can never match a JWKS key.
    Unknown,
}

impl HeaderAlg {
    fn parse(alg: &str) -> Self {
        if alg.eq_ignore_ascii_case("none") {
            Self::None
        } else if alg.starts_with("HS") {
            // Same test as auth-js: `header.alg.startsWith('HS')`.
            Self::Hmac
        } else {
            alg.parse().map_or(Self::Unknown, Self::Known)
        }
    }
}

/// A decoded, unverified token.
#[derive(Debug)]
pub(crate) struct DecodedToken<'t> {
    pub(crate) alg: HeaderAlg,
    /// The header's `kid`; an empty string counts as absent, as in auth-js.
    pub(crate) kid: Option<String>,
    pub(crate) claims: Claims,
    /// `<header>.<payload>` exactly as received: the bytes the signature covers.
    pub(crate) signing_input: &'t str,
    pub(crate) signature: Vec<u8>,
}

#[derive(Deserialize)]
struct RawHeader<'a> {
    #[serde(borrow, default)]
    alg: Option<Key<'a>>,
    #[serde(default)]
    kid: Option<String>,
    // RFC 7515 §4.1.11: extensions we do not understand must make the token invalid.
    #[serde(default)]
    crit: Option<IgnoredAny>,
}

/// Decodes a compact JWS: exactly three dot-separated parts, each unpadded base64url,
/// header and payload JSON objects. Never panics.
pub(crate) fn decode(token: &str) -> Result<DecodedToken<'_>, JwtError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(JwtError::Malformed("token too long"));
    }
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed("not three dot-separated parts"));
    };

    let header_json = b64(header_b64)?;
    // A derived struct also accepts a JSON array; a JOSE header must be an object.
    if header_json.trim_ascii_start().first() != Some(&b'{') {
        return Err(JwtError::Malformed("header is not a valid JSON object"));
    }
    let header: RawHeader<'_> = serde_json::from_slice(&header_json)
        .map_err(|_| JwtError::Malformed("header is not a valid JSON object"))?;
    if header.crit.is_some() {
        return Err(JwtError::Malformed("unsupported crit header"));
    }
    let alg = match &header.alg {
        Some(Key(alg)) => HeaderAlg::parse(alg),
        None => return Err(JwtError::Malformed("header has no alg")),
    };
    let kid = header.kid.filter(|kid| !kid.is_empty());

    let payload_json = b64(payload_b64)?;
    let claims = Claims::from_payload_json(&payload_json)?;
    let signature = b64(signature_b64)?;

    // Ends right before the second '.', so it is in bounds and on a char boundary.
    let signing_input = &token[..header_b64.len() + 1 + payload_b64.len()];
    Ok(DecodedToken {
        alg,
        kid,
        claims,
        signing_input,
        signature,
    })
}

/// Strict unpadded base64url: `=` padding, other alphabets, a length of 4n+1 and non-zero
/// trailing bits are all rejected.
fn b64(part: &str) -> Result<Vec<u8>, JwtError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JwtError::Malformed("part is not unpadded base64url"))
}
