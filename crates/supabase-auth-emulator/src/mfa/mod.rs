//! TOTP multi-factor auth as GoTrue does it: the enrolment key and its `otpauth://`
//! URI, the QR code, code checks, and GoTrue's MFA defaults.
//!
//! Pure logic; the routes in `routes/mfa.rs` and the rows in `store/factors.rs` use it.

pub(crate) mod qr;
pub(crate) mod totp;

/// `GOTRUE_MFA_CHALLENGE_EXPIRY_DURATION` (default and minimum, seconds).
pub(crate) const CHALLENGE_EXPIRY_SECS: i64 = 300;

/// `GOTRUE_MFA_FACTOR_EXPIRY_DURATION` (default and minimum, seconds): an unverified
/// factor never challenged is deleted at the next enrolment once this old.
pub(crate) const FACTOR_EXPIRY_SECS: i64 = 300;

/// `GOTRUE_MFA_MAX_ENROLLED_FACTORS` default: factors of any status per user.
pub(crate) const MAX_ENROLLED_FACTORS: usize = 10;

/// `GOTRUE_MFA_MAX_VERIFIED_FACTORS` default.
pub(crate) const MAX_VERIFIED_FACTORS: usize = 10;

/// `amr` methods that make a session aal2 (`AMRClaim.IsAAL2Claim`).
pub(crate) const AAL2_METHODS: [&str; 3] = ["totp", "mfa/phone", "mfa/webauthn"];

/// The `amr` method a verified factor of `factor_type` adds (`amrMethodForFactorType`).
pub(crate) fn amr_method(factor_type: &str) -> Option<&'static str> {
    match factor_type {
        "totp" => Some("totp"),
        "phone" => Some("mfa/phone"),
        "webauthn" => Some("mfa/webauthn"),
        _ => None,
    }
}
