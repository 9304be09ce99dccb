//! Splitting and decoding a compact JWS the way auth-js's `decodeJWT` does. Nothing here
//! checks a signature or a claim.

use std::borrow::Cow;

use base64::DecodeSliceError;
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

const THREE_PARTS: JwtError = JwtError::Malformed("not three dot-separated parts");
const NOT_BASE64URL: JwtError = JwtError::Malformed("part is not unpadded base64url");
const HEADER_NOT_OBJECT: JwtError = JwtError::Malformed("header is not a valid JSON object");
const PAYLOAD_NOT_CLAIMS: JwtError = JwtError::Malformed("payload is not a valid claims object");

/// Signatures up to this size (RSA-4096; ES256 and EdDSA take 64 bytes) are decoded on
/// the stack; longer ones are decoded again onto the heap, so the outcome is the same.
const INLINE_SIGNATURE_LEN: usize = 512;
/// Headers and payloads up to this size are decoded on the stack. Supabase headers take
/// about 60 bytes and payloads 600 to 900; larger custom claims go to the heap.
const INLINE_JSON_LEN: usize = 2048;

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
    pub(crate) signature: Signature,
}

/// The decoded signature bytes (read them through `Deref<Target = [u8]>`). Decoded once,
/// without a heap allocation unless the signature is longer than RSA-4096's.
// The large variant is the one nearly every token takes; being large is its point.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Signature {
    Inline {
        bytes: [u8; INLINE_SIGNATURE_LEN],
        len: usize,
    },
    Heap(Vec<u8>),
}

impl std::ops::Deref for Signature {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            // `len` is what `decode_slice` wrote into `bytes`, so `get` always succeeds.
            Self::Inline { bytes, len } => bytes.get(..*len).unwrap_or_default(),
            Self::Heap(bytes) => bytes,
        }
    }
}

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signature")
            .field("len", &self.len())
            .finish()
    }
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
    // The last dot, then the first: whether the payload between them holds another dot is
    // left to its base64url decoding, which rejects '.', so the payload (most of the
    // token) is scanned once rather than twice.
    let Some((signing_input, signature_b64)) = token.rsplit_once('.') else {
        return Err(THREE_PARTS);
    };
    let Some((header_b64, payload_b64)) = signing_input.split_once('.') else {
        return Err(THREE_PARTS);
    };
    decode_parts(signing_input, header_b64, payload_b64, signature_b64).map_err(|error| {
        // A payload that decoded held no '.'. Otherwise, with more than three parts, the
        // answer is the one a split before any decoding gives.
        if payload_b64.contains('.') {
            THREE_PARTS
        } else {
            error
        }
    })
}

/// The three parts, in auth-js's order: header, then payload, then signature.
fn decode_parts<'t>(
    signing_input: &'t str,
    header_b64: &str,
    payload_b64: &str,
    signature_b64: &str,
) -> Result<DecodedToken<'t>, JwtError> {
    let mut buf = [0u8; INLINE_JSON_LEN];
    let header_json = b64_into(header_b64, &mut buf)?;
    // A derived struct also accepts a JSON array; a JOSE header must be an object.
    if header_json.trim_ascii_start().first() != Some(&b'{') {
        return Err(HEADER_NOT_OBJECT);
    }
    let header: RawHeader<'_> =
        serde_json::from_slice(&header_json).map_err(|_| HEADER_NOT_OBJECT)?;
    if header.crit.is_some() {
        return Err(JwtError::Malformed("unsupported crit header"));
    }
    let alg = match &header.alg {
        Some(Key(alg)) => HeaderAlg::parse(alg),
        None => return Err(JwtError::Malformed("header has no alg")),
    };
    let kid = header.kid.filter(|kid| !kid.is_empty());

    let payload_json = b64_into(payload_b64, &mut buf)?;
    let claims = parse_claims(&payload_json)?;
    let signature = decode_signature(signature_b64)?;
    Ok(DecodedToken {
        alg,
        kid,
        claims,
        signing_input,
        signature,
    })
}

/// What `Claims::from_payload_json` does, with the UTF-8 check made once over the whole
/// payload instead of once per string inside the JSON parser. Same outcome: every string
/// of a claims object is parsed (none is skipped unchecked), so `from_slice` rejects
/// exactly the payloads that are not UTF-8.
fn parse_claims(json: &[u8]) -> Result<Claims, JwtError> {
    let json = std::str::from_utf8(json).map_err(|_| PAYLOAD_NOT_CLAIMS)?;
    serde_json::from_str(json).map_err(|_| PAYLOAD_NOT_CLAIMS)
}

/// Strict unpadded base64url: `=` padding, other alphabets, a length of 4n+1 and non-zero
/// trailing bits are all rejected.
fn b64(part: &str) -> Result<Vec<u8>, JwtError> {
    URL_SAFE_NO_PAD.decode(part).map_err(|_| NOT_BASE64URL)
}

/// [`b64`] into `buf` when the result fits, else onto the heap.
fn b64_into<'b>(part: &str, buf: &'b mut [u8]) -> Result<Cow<'b, [u8]>, JwtError> {
    match URL_SAFE_NO_PAD.decode_slice(part, buf) {
        Ok(len) => Ok(Cow::Borrowed(buf.get(..len).unwrap_or_default())),
        Err(DecodeSliceError::OutputSliceTooSmall) => b64(part).map(Cow::Owned),
        Err(DecodeSliceError::DecodeError(_)) => Err(NOT_BASE64URL),
    }
}

/// [`b64_into`] for the signature, kept inline when it fits.
fn decode_signature(part: &str) -> Result<Signature, JwtError> {
    let mut bytes = [0u8; INLINE_SIGNATURE_LEN];
    let len = match b64_into(part, &mut bytes)? {
        Cow::Borrowed(decoded) => decoded.len(),
        Cow::Owned(decoded) => return Ok(Signature::Heap(decoded)),
    };
    Ok(Signature::Inline { bytes, len })
}
