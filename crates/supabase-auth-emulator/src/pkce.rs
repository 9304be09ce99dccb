//! PKCE parameter validation and verification (GoTrue `pkce.go`, `security/pkce.go`).

use crate::routes::error::ApiError;
use crate::util::{constant_time_eq, sha256_b64url};

/// A validated code challenge.
#[derive(Debug, Clone)]
pub(crate) struct Challenge {
    pub(crate) challenge: String,
    /// `s256` or `plain`.
    pub(crate) method: String,
}

/// Validates optional PKCE parameters: `Ok(None)` when neither is given.
pub(crate) fn validate(
    challenge: Option<&str>,
    method: Option<&str>,
) -> Result<Option<Challenge>, ApiError> {
    let challenge = challenge.filter(|s| !s.is_empty());
    let method = method.filter(|s| !s.is_empty());
    match (challenge, method) {
        (None, None) => Ok(None),
        (Some(challenge), Some(method)) => {
            if !(43..=128).contains(&challenge.len()) {
                return Err(ApiError::validation(
                    "code challenge has to be between 43 and 128 characters",
                ));
            }
            if !challenge
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
            {
                return Err(ApiError::validation(
                    "code challenge can only contain alphanumeric characters, hyphens, periods, underscores and tildes",
                ));
            }
            let method = match method.to_ascii_lowercase().as_str() {
                "s256" => "s256",
                "plain" => "plain",
                _ => {
                    return Err(ApiError::validation(format!(
                        "code challenge method not supported: {method}"
                    )));
                }
            };
            Ok(Some(Challenge {
                challenge: challenge.into(),
                method: method.into(),
            }))
        }
        _ => Err(ApiError::validation(
            "PKCE flow requires code_challenge_method and code_challenge",
        )),
    }
}

/// Whether `verifier` matches the stored challenge.
pub(crate) fn verify(method: &str, challenge: &str, verifier: &str) -> bool {
    match method {
        "s256" => constant_time_eq(&sha256_b64url(verifier), challenge),
        "plain" => constant_time_eq(verifier, challenge),
        _ => false,
    }
}
