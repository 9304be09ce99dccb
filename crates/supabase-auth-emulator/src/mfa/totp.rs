//! TOTP keys and codes as GoTrue makes and checks them (pquerna/otp v1.4.0 under
//! `totp.Generate` and `totp.ValidateCustom`): 20 random bytes, base32 without padding,
//! SHA-1, 6 digits, 30 s steps, one step of skew either way, no record of used codes.
//! The RFC 6238 arithmetic is `totp-rs`'s.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rand::RngCore as _;
use totp_rs::{Algorithm, Builder, Secret};

/// Secret size in bytes (`GenerateOpts.SecretSize` default).
const SECRET_BYTES: usize = 20;
/// Code length (`otp.DigitsSix`).
const DIGITS: usize = 6;
/// Step in seconds (`Period` default).
const STEP_SECS: u64 = 30;
/// Steps accepted either side of the current one (`ValidateOpts.Skew` in `mfa.go`).
const SKEW: u16 = 1;

/// What Go's `url.URL.EscapedPath` leaves alone: unreserved marks and every reserved
/// character but `?` (`shouldEscape` in `encodePath` mode).
const GO_PATH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b',')
    .remove(b'/')
    .remove(b':')
    .remove(b';')
    .remove(b'=')
    .remove(b'@');

/// What Go's `url.PathEscape` leaves alone (`encodePathSegment` mode): as the path,
/// less `/`, `;` and `,`.
const GO_PATH_SEGMENT: &AsciiSet = &GO_PATH.add(b'/').add(b';').add(b',');

/// Why a key could not be made (`otp.ErrGenerateMissingIssuer`, `...AccountName`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyError {
    MissingIssuer,
    MissingAccountName,
}

/// A new TOTP key: its base32 secret and the `otpauth://` URI the QR code carries.
pub(crate) struct TotpKey {
    pub(crate) secret: String,
    pub(crate) uri: String,
}

impl std::fmt::Debug for TotpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpKey([redacted])")
    }
}

/// Makes a key for `account` (the user's email) at `issuer`, as `totp.Generate` does.
pub(crate) fn generate(issuer: &str, account: &str) -> Result<TotpKey, KeyError> {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    key_from_bytes(issuer, account, bytes)
}

fn key_from_bytes(
    issuer: &str,
    account: &str,
    bytes: [u8; SECRET_BYTES],
) -> Result<TotpKey, KeyError> {
    if issuer.is_empty() {
        return Err(KeyError::MissingIssuer);
    }
    if account.is_empty() {
        return Err(KeyError::MissingAccountName);
    }
    // 20 bytes are 32 base32 characters: no padding either way.
    let secret = Secret::from(bytes).to_base32();
    Ok(TotpKey {
        uri: uri(issuer, account, &secret),
        secret,
    })
}

/// `otpauth://totp/<issuer>:<account>?algorithm=SHA1&digits=6&issuer=<issuer>&period=30&secret=<s>`:
/// the path escaped as Go's `URL.String` does, the query keys sorted and the values
/// escaped with `url.PathEscape` (pquerna/otp's `internal.EncodeQuery`).
fn uri(issuer: &str, account: &str, secret: &str) -> String {
    let path = format!("/{issuer}:{account}");
    format!(
        "otpauth://totp{}?algorithm=SHA1&digits={DIGITS}&issuer={}&period={STEP_SECS}&secret={}",
        utf8_percent_encode(&path, GO_PATH),
        utf8_percent_encode(issuer, GO_PATH_SEGMENT),
        utf8_percent_encode(secret, GO_PATH_SEGMENT),
    )
}

/// Whether `code` is the code of `secret` at `now_secs`, the step before or the step
/// after (`totp.ValidateCustom` with GoTrue's options). Surrounding whitespace is
/// ignored, as `hotp.ValidateCustom` trims it; a code may be used again.
pub(crate) fn check(secret: &str, code: &str, now_secs: i64) -> bool {
    let code = code.trim();
    if code.len() != DIGITS {
        return false;
    }
    let Ok(now) = u64::try_from(now_secs) else {
        return false;
    };
    let Some(totp) = totp(secret) else {
        return false;
    };
    totp.check(code, now).is_some()
}

fn totp(secret: &str) -> Option<totp_rs::Totp> {
    let secret = Secret::try_from_base32(secret.trim().to_ascii_uppercase()).ok()?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(u8::try_from(DIGITS).ok()?)
        .with_skew(SKEW)
        .with_step_duration(STEP_SECS)
        .with_secret(secret)
        .build()
        .ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn uri_matches_pquerna_otp() {
        let key = key_from_bytes("127.0.0.1:3000", "ann+mfa@example.com", [0u8; 20]).unwrap();
        assert_eq!(key.secret, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        assert_eq!(
            key.uri,
            "otpauth://totp/127.0.0.1:3000:ann+mfa@example.com?algorithm=SHA1&digits=6\
             &issuer=127.0.0.1:3000&period=30&secret=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        );
        // Spaces are %20 in both parts; `?`, `#` and `/` in the issuer are escaped in
        // the query, `/` is kept in the path, as Go does.
        let key = key_from_bytes("My App/x?#", "a b@example.com", [0xff; 20]).unwrap();
        assert_eq!(
            key.uri,
            "otpauth://totp/My%20App/x%3F%23:a%20b@example.com?algorithm=SHA1&digits=6\
             &issuer=My%20App%2Fx%3F%23&period=30&secret=77777777777777777777777777777777"
        );
        assert_eq!(
            key_from_bytes("", "a@b.co", [0; 20]).unwrap_err(),
            KeyError::MissingIssuer
        );
        assert_eq!(
            key_from_bytes("x", "", [0; 20]).unwrap_err(),
            KeyError::MissingAccountName
        );
    }

    #[test]
    fn rfc6238_sha1_vectors_and_skew() {
        // RFC 6238 appendix B (SHA-1 key "12345678901234567890"), last 6 digits.
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        assert!(check(&secret, "287082", 59));
        assert!(check(&secret, "081804", 1_111_111_109));
        assert!(check(&secret, "050471", 1_111_111_111));
        assert!(check(&secret, " 050471\n", 1_111_111_111), "trimmed");
        // 1111111109 is in step 37037036: the code is good one step later or earlier,
        // not two.
        assert!(check(&secret, "081804", 1_111_111_109 + 30));
        assert!(check(&secret, "081804", 1_111_111_109 - 30));
        assert!(!check(&secret, "081804", 1_111_111_109 + 60));
        assert!(!check(&secret, "081804", 1_111_111_109 - 60));
        assert!(!check(&secret, "81804", 1_111_111_109));
        assert!(!check(&secret, "0818040", 1_111_111_109));
        assert!(!check(&secret, "08180a", 1_111_111_109));
        assert!(!check("not base32!", "081804", 1_111_111_109));
        assert!(!check(&secret, "081804", -1));
    }

    #[test]
    fn debug_hides_the_secret() {
        let key = key_from_bytes("i", "a@b.co", [7; 20]).unwrap();
        assert_eq!(format!("{key:?}"), "TotpKey([redacted])");
    }
}
