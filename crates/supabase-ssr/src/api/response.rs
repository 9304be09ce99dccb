//! Reading answers: auth-js's `handleError` for error statuses, and the shapes that
//! successful answers must have.

use reqwest::StatusCode;
use serde_json::Value;

use super::request::{API_VERSION, API_VERSION_HEADER, RawResponse};
use super::types::JsonObject;
use crate::AuthError;
use crate::error::is_retryable_status;

impl RawResponse {
    fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `Ok(self)` for 2xx; the parsed error otherwise.
    pub(crate) fn success(self) -> Result<Self, AuthError> {
        if self.is_success() {
            Ok(self)
        } else {
            Err(parse_error(&self))
        }
    }

    /// A 2xx answer's body as JSON. A body that is not JSON is a retryable failure, as
    /// in auth-js (`handleError` of the parse exception yields a status-0 fetch error).
    pub(crate) fn json(self) -> Result<Value, AuthError> {
        let response = self.success()?;
        serde_json::from_slice(&response.body).map_err(|_| {
            AuthError::unreadable_response(format!("HTTP {} answer is not JSON", response.status))
        })
    }

    /// A 2xx answer's body as a JSON object.
    pub(crate) fn json_object(self) -> Result<JsonObject, AuthError> {
        match self.json()? {
            Value::Object(map) => Ok(map),
            _ => Err(AuthError::invalid_response("answer is not a JSON object")),
        }
    }
}

/// auth-js `handleError`, for a non-2xx answer.
///
/// - 500-504 and 520-530 are retryable whatever the body says;
/// - otherwise a body that is not JSON gives an error without a code;
/// - the code is `code` when the response's `X-Supabase-Api-Version` is a date on or
///   after 2024-01-01 and `code` is a string, else `error_code`;
/// - `weak_password` keeps its reasons; `session_not_found` means the session is gone.
pub(crate) fn parse_error(response: &RawResponse) -> AuthError {
    let status = response.status;
    let body: Option<Value> = serde_json::from_slice(&response.body).ok();
    let Some(data) = body else {
        let reason = StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .map_or_else(
                || format!("HTTP {status}"),
                |r| format!("HTTP {status} {r}"),
            );
        return if is_retryable_status(status) {
            AuthError::api(status, None, reason)
        } else {
            AuthError::api_unreadable(status, format!("{reason}: answer is not JSON"))
        };
    };

    let message = error_message(&data, status);
    let object = data.as_object();
    let field = |name: &str| object.and_then(|o| o.get(name)).and_then(Value::as_str);
    let new_shape = response_api_version(response).is_some_and(|v| v.as_str() >= API_VERSION);
    let code = match field("code") {
        Some(code) if new_shape => Some(code),
        _ => field("error_code"),
    }
    .map(str::to_owned);

    if is_retryable_status(status) {
        // auth-js drops the code here; keeping it only helps diagnosis.
        return AuthError::api(status, code, message);
    }

    let reasons = weak_password_reasons(object);
    match code.as_deref() {
        None => match reasons {
            // Servers older than error codes flagged weak passwords by the object alone.
            Some(reasons) if !reasons.is_empty() => {
                AuthError::weak_password(status, message, reasons)
            }
            _ => AuthError::api(status, None, message),
        },
        Some("weak_password") => {
            AuthError::weak_password(status, message, reasons.unwrap_or_default())
        }
        Some("session_not_found") => AuthError::session_not_found(status, message),
        Some(_) => AuthError::api(status, code, message),
    }
}

/// The first string among `msg`, `message`, `error_description`, `error`.
///
/// auth-js falls back to the whole body as JSON text; a generic line is used instead so
/// that nothing the server echoed back can reach logs.
fn error_message(data: &Value, status: u16) -> String {
    ["msg", "message", "error_description", "error"]
        .iter()
        .find_map(|key| data.get(*key).and_then(Value::as_str))
        .map_or_else(
            || format!("HTTP {status} without an error message"),
            str::to_owned,
        )
}

/// `weak_password.reasons` when it is an array of strings.
fn weak_password_reasons(object: Option<&JsonObject>) -> Option<Vec<String>> {
    let reasons = object?.get("weak_password")?.get("reasons")?.as_array()?;
    reasons
        .iter()
        .map(|r| r.as_str().map(str::to_owned))
        .collect()
}

/// The response's `X-Supabase-Api-Version` when it is a `2YYY-MM-DD` date
/// (auth-js `parseResponseAPIVersion`). Such strings compare like the dates.
fn response_api_version(response: &RawResponse) -> Option<String> {
    let value = response.headers.get(API_VERSION_HEADER)?.to_str().ok()?;
    is_api_version_date(value).then(|| value.to_owned())
}

/// auth-js's `^2[0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-9]|3[0-1])$`.
fn is_api_version_date(value: &str) -> bool {
    let b = value.as_bytes();
    let digits = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_digit);
    if b.len() != 10 || b[0] != b'2' || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    if !digits(1..4) || !digits(5..7) || !digits(8..10) {
        return false;
    }
    let month = (b[5] - b'0') * 10 + (b[6] - b'0');
    let day = (b[8] - b'0') * 10 + (b[9] - b'0');
    (1..=12).contains(&month) && (1..=31).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_version_dates_follow_the_auth_js_pattern() {
        for ok in ["2024-01-01", "2025-12-31", "2999-02-30"] {
            assert!(is_api_version_date(ok), "{ok}");
        }
        for bad in [
            "",
            "2024-1-01",
            "1999-01-01",
            "2024-13-01",
            "2024-01-00",
            "2024-01-32",
            "2024-01-01 ",
        ] {
            assert!(!is_api_version_date(bad), "{bad}");
        }
    }
}
