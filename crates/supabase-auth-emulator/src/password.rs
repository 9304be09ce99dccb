//! Password rules and bcrypt, run off the async worker threads.

use crate::routes::error::ApiError;

/// GoTrue's minimum password length.
pub(crate) const MIN_LENGTH: usize = 6;

/// Signup/update strength check: 422 `weak_password` when too short.
pub(crate) fn check_strength(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_LENGTH {
        return Err(ApiError::weak_password(
            &format!("Password should be at least {MIN_LENGTH} characters."),
            &["length"],
        ));
    }
    Ok(())
}

/// The `weak_password` value of a password grant: `null` or `{message, reasons}`.
pub(crate) fn weak_password_value(password: &str) -> serde_json::Value {
    if password.chars().count() < MIN_LENGTH {
        serde_json::json!({
            "message": format!("Password should be at least {MIN_LENGTH} characters."),
            "reasons": ["length"],
        })
    } else {
        serde_json::Value::Null
    }
}

/// 400 when longer than bcrypt's 72 bytes.
pub(crate) fn check_length(password: &str) -> Result<(), ApiError> {
    if password.len() > 72 {
        return Err(ApiError::validation(
            "Password cannot be longer than 72 characters",
        ));
    }
    Ok(())
}

/// bcrypt hash on the blocking pool.
pub(crate) async fn hash(password: String, cost: u32) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || bcrypt::hash(password, cost))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|e| {
            tracing::error!(error = %e, "bcrypt hash failed");
            ApiError::internal()
        })
}

/// bcrypt verify on the blocking pool; a malformed stored hash counts as a mismatch.
pub(crate) async fn verify(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
        .await
        .unwrap_or(false)
}
