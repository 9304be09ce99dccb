//! Small pure helpers: randomness, hashing, time formatting, validation.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng as _;
use sha2::{Digest as _, Sha224, Sha256};

/// Lowercase base32 alphabet used by GoTrue's legacy refresh tokens.
const BASE32_LOWER: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// A legacy-format refresh token: 12 characters of `[a-z2-7]`.
pub(crate) fn refresh_token_string() -> String {
    let mut rng = rand::rng();
    (0..12)
        .map(|_| char::from(BASE32_LOWER[rng.random_range(0..32)]))
        .collect()
}

/// A zero-padded numeric one-time code of `len` digits.
pub(crate) fn otp_code(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

/// A random alphanumeric string (used for throwaway passwords and provider tokens).
pub(crate) fn random_alnum(len: usize) -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// `hex(SHA-224(input))`, GoTrue's email/phone token hash.
pub(crate) fn sha224_hex(input: &str) -> String {
    hex(&Sha224::digest(input.as_bytes()))
}

/// `base64url_nopad(SHA-256(input))`, the PKCE S256 transform.
pub(crate) fn sha256_b64url(input: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(input.as_bytes()))
}

/// Lowercase hex encoding.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Constant-time string comparison, for secrets and PKCE verifiers.
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A new random (v4) UUID as a lowercase hyphenated string.
pub(crate) fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `s` as a UUID in the lowercase hyphenated form the store keeps, if it parses as one
/// in any spelling Go's `uuid.FromString` accepts (upper case, no hyphens, braces,
/// `urn:uuid:`): both stores then find the row PostgreSQL's `uuid` type would.
pub(crate) fn canonical_uuid(s: &str) -> Option<String> {
    uuid::Uuid::parse_str(s)
        .ok()
        .map(|u| u.hyphenated().to_string())
}

/// Formats microseconds since the epoch like Go's `time.Time` JSON encoding
/// (RFC 3339, UTC, fractional seconds with trailing zeros trimmed).
pub(crate) fn format_time(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mut out = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60
    );
    if frac != 0 {
        let digits = format!("{frac:06}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    // d is in 1..=31 and m in 1..=12 by construction.
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Email validation close to GoTrue's: non-empty, at most 255 chars, one `@`,
/// a non-empty local part and a dotted domain without spaces.
pub(crate) fn validate_email(email: &str) -> Result<(), &'static str> {
    if email.is_empty() {
        return Err("An email address is required");
    }
    if email.len() > 255 {
        return Err("An email address is too long");
    }
    let mut parts = email.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err("invalid format");
    };
    let domain_ok = !domain.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
    if local.is_empty() || !domain_ok || email.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("invalid format");
    }
    Ok(())
}

/// GoTrue's `validatePhone` (see [`crate::phone::normalize`]).
pub(crate) fn normalize_phone(phone: &str) -> Option<String> {
    crate::phone::normalize(phone)
}

/// Parses a Go duration string like `"24h"`, `"1h30m"`, `"90s"` into seconds.
pub(crate) fn parse_go_duration(s: &str) -> Option<i64> {
    let mut rest = s.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total_micros: f64 = 0.0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let value: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ns" => 0.001,
            "us" | "µs" => 1.0,
            "ms" => 1_000.0,
            "s" => 1_000_000.0,
            "m" => 60_000_000.0,
            "h" => 3_600_000_000.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total_micros += value * factor;
    }
    // Float-to-int `as` saturates, which is what we want for absurd durations.
    Some((total_micros / 1_000_000.0) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_time_like_go() {
        assert_eq!(format_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_time(1_736_936_430_123_456),
            "2025-01-15T10:20:30.123456Z"
        );
        assert_eq!(
            format_time(1_736_936_430_120_000),
            "2025-01-15T10:20:30.12Z"
        );
        assert_eq!(format_time(951_782_400_000_000), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn refresh_tokens_match_legacy_format() {
        let t = refresh_token_string();
        assert_eq!(t.len(), 12);
        assert!(t.bytes().all(|b| BASE32_LOWER.contains(&b)));
    }

    #[test]
    fn token_hash_is_sha224_hex() {
        // SHA-224("abc") from FIPS 180-2.
        assert_eq!(
            sha224_hex("abc"),
            "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"
        );
    }

    #[test]
    fn pkce_s256_matches_rfc7636_example() {
        assert_eq!(
            sha256_b64url("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("24h"), Some(86_400));
        assert_eq!(parse_go_duration("1h30m"), Some(5_400));
        assert_eq!(parse_go_duration("1.5s"), Some(1));
        assert_eq!(parse_go_duration("abc"), None);
        assert_eq!(parse_go_duration("10"), None);
    }

    #[test]
    fn emails() {
        assert!(validate_email("a@b.co").is_ok());
        assert!(validate_email("a@b").is_err());
        assert!(validate_email("a b@c.de").is_err());
        assert!(validate_email("").is_err());
    }
}
