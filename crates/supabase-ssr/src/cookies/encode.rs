//! Value encodings used by `@supabase/ssr`: JS `encodeURIComponent` (chunk sizes are
//! measured on it) and the `base64-` + unpadded base64url form of stored values.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// The prefix `@supabase/ssr` puts before base64url-encoded values.
pub const BASE64_PREFIX: &str = "base64-";

/// Characters `encodeURIComponent` leaves alone.
fn is_uri_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
        )
}

/// Length of `encodeURIComponent(c)` for one character.
pub(crate) fn encoded_char_len(c: char) -> usize {
    if c.is_ascii() && is_uri_unreserved(c as u8) {
        1
    } else {
        3 * c.len_utf8()
    }
}

/// Length of `encodeURIComponent(s)`, without building it.
pub(crate) fn encoded_len(s: &str) -> usize {
    s.bytes()
        .map(|b| if is_uri_unreserved(b) { 1 } else { 3 })
        .sum()
}

/// JS `encodeURIComponent` (Rust strings hold no lone surrogates, so it cannot fail).
pub fn encode_uri_component(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if is_uri_unreserved(b) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0x0f)] as char);
        }
    }
    out
}

/// The `decode` of the `cookie` npm package: `decodeURIComponent` when the value holds
/// a `%`, the raw value when decoding fails.
pub(crate) fn decode_cookie_value(s: &str) -> String {
    if memchr::memchr(b'%', s.as_bytes()).is_none() {
        return s.to_owned();
    }
    decode_uri_component(s).unwrap_or_else(|| s.to_owned())
}

/// JS `decodeURIComponent`: `None` where JS throws `URIError`.
fn decode_uri_component(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = hex_val(*bytes.get(i + 1)?)?;
            let lo = hex_val(*bytes.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `"base64-" + base64url(utf8(value))`, no padding.
pub fn to_base64_value(value: &str) -> String {
    let mut out = String::with_capacity(BASE64_PREFIX.len() + value.len().div_ceil(3) * 4);
    out.push_str(BASE64_PREFIX);
    URL_SAFE_NO_PAD.encode_string(value.as_bytes(), &mut out);
    out
}

/// Why a `base64-` value could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// A character outside the base64url alphabet.
    InvalidBase64,
    /// The bytes are not UTF-8.
    InvalidUtf8,
}

const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// Decodes base64url the way `@supabase/ssr`'s `stringFromBase64URL` does: spaces, tabs,
/// line breaks and `=` are skipped anywhere, other characters outside the alphabet are
/// errors, leftover bits are dropped, and the bytes must be UTF-8.
pub fn decode_base64url(input: &str) -> Result<String, DecodeError> {
    // Fast path: values this library and @supabase/ssr write are plain unpadded
    // base64url, which the engine decodes (and checks) in one pass.
    let bytes = match LENIENT.decode(input.as_bytes()) {
        Ok(bytes) => bytes,
        Err(_) => decode_base64url_lenient(input)?,
    };
    String::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8)
}

/// The slow path for everything else JS accepts: skipped characters, a stray final
/// character.
fn decode_base64url_lenient(input: &str) -> Result<Vec<u8>, DecodeError> {
    let skipped = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'=');
    let cleaned: Vec<u8> = input.bytes().filter(|b| !skipped(*b)).collect();
    if !cleaned
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
    {
        return Err(DecodeError::InvalidBase64);
    }
    // A single leftover character carries fewer than 8 bits: JS drops it.
    let usable = if cleaned.len() % 4 == 1 {
        &cleaned[..cleaned.len() - 1]
    } else {
        &cleaned[..]
    };
    LENIENT
        .decode(usable)
        .map_err(|_| DecodeError::InvalidBase64)
}

/// Decodes a combined cookie value: `base64-` values are decoded and must hold JSON;
/// other values are returned as they are. `None` means "treat as absent".
pub fn decode_value(combined: &str) -> Option<String> {
    let decoded = decode_base64_value(combined)?;
    if combined.starts_with(BASE64_PREFIX)
        && serde_json::from_str::<serde::de::IgnoredAny>(&decoded).is_err()
    {
        warn_invalid_json();
        return None;
    }
    Some(decoded)
}

/// [`decode_value`] without the JSON check, for a caller that parses the value anyway
/// and calls [`warn_invalid_json`] itself when it is not JSON.
pub(crate) fn decode_base64_value(combined: &str) -> Option<String> {
    let Some(b64) = combined.strip_prefix(BASE64_PREFIX) else {
        return Some(combined.to_owned());
    };
    match decode_base64url(b64) {
        Ok(d) => Some(d),
        Err(e) => {
            tracing::warn!(
                error = ?e,
                "supabase-ssr: could not base64url-decode a cookie value, treating as absent"
            );
            None
        }
    }
}

pub(crate) fn warn_invalid_json() {
    tracing::warn!(
        "supabase-ssr: a cookie value decoded to invalid JSON, treating as absent \
         (chunks from different writes were probably mixed)"
    );
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn encode_uri_component_matches_js() {
        assert_eq!(
            encode_uri_component("a b&c=d/é€😀-_.!~*'()"),
            "a%20b%26c%3Dd%2F%C3%A9%E2%82%AC%F0%9F%98%80-_.!~*'()"
        );
        assert_eq!(
            encoded_len("a b&é😀"),
            encode_uri_component("a b&é😀").len()
        );
    }

    #[test]
    fn cookie_value_decoding_falls_back_to_raw() {
        assert_eq!(decode_cookie_value("a%20b"), "a b");
        assert_eq!(decode_cookie_value("100%"), "100%");
        assert_eq!(decode_cookie_value("%E2%82"), "%E2%82");
        assert_eq!(decode_cookie_value("plain"), "plain");
    }

    #[test]
    fn base64_round_trip_and_leniency() {
        let v = to_base64_value("{\"a\":\"é\"}");
        assert_eq!(v, "base64-eyJhIjoiw6kifQ");
        assert_eq!(decode_base64url("eyJhIjoiw6kifQ").unwrap(), "{\"a\":\"é\"}");
        assert_eq!(
            decode_base64url("eyJh Ijoi\nw6ki fQ==").unwrap(),
            "{\"a\":\"é\"}"
        );
        // One stray trailing character is dropped, as JS does.
        assert_eq!(decode_base64url("YWJjZ").unwrap(), "abc");
        assert_eq!(decode_base64url("YW+j"), Err(DecodeError::InvalidBase64));
        assert_eq!(decode_base64url("_w"), Err(DecodeError::InvalidUtf8));
        assert_eq!(decode_base64url("").unwrap(), "");
    }
}
