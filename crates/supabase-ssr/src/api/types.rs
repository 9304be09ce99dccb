//! Arguments and answers of the Auth HTTP calls.

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use crate::AuthError;

/// A JSON object as the server sent it, key order kept.
pub(crate) type JsonObject = serde_json::Map<String, Value>;

/// How a user is identified for a password sign-in.
#[derive(Clone, PartialEq, Eq, Hash)]
#[allow(unreachable_pub, reason = "re-exported from lib.rs")]
pub enum Identifier {
    /// An email address.
    Email(String),
    /// A phone number (E.164).
    Phone(String),
}

impl fmt::Debug for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Addresses are personal data; logs rarely need them whole.
        match self {
            Self::Email(_) => f.write_str("Identifier::Email(..)"),
            Self::Phone(_) => f.write_str("Identifier::Phone(..)"),
        }
    }
}

/// Which sessions a sign-out ends (`POST /logout?scope=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[allow(unreachable_pub, reason = "re-exported from lib.rs")]
pub enum SignOutScope {
    /// Every session of the user (auth-js's default).
    #[default]
    Global,
    /// Only the current session.
    Local,
    /// Every session except the current one.
    Others,
}

#[allow(unreachable_pub, reason = "re-exported from lib.rs")]
impl SignOutScope {
    /// The query value: `global`, `local` or `others`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Global => "global",
            Self::Local => "local",
            Self::Others => "others",
        }
    }
}

impl fmt::Display for SignOutScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SignOutScope {
    type Err = AuthError;

    /// Parses `global`, `local` or `others` (exactly, as auth-js does).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "global" => Ok(Self::Global),
            "local" => Ok(Self::Local),
            "others" => Ok(Self::Others),
            _ => Err(AuthError::invalid_input(
                "sign-out scope must be one of global, local, others",
            )),
        }
    }
}

/// `POST /signup` with an email address and password.
#[derive(Clone, Default)]
pub(crate) struct SignUpParams {
    pub(crate) email: String,
    pub(crate) password: String,
    /// User metadata; auth-js sends `{}` when there is none.
    pub(crate) data: Option<JsonObject>,
    pub(crate) redirect_to: Option<String>,
    /// S256 PKCE challenge; `None` sends `null` (auth-js's implicit flow).
    pub(crate) code_challenge: Option<String>,
}

impl fmt::Debug for SignUpParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignUpParams")
            .field("password", &"<redacted>")
            .field("redirect_to", &self.redirect_to.is_some())
            .field("code_challenge", &self.code_challenge.is_some())
            .finish_non_exhaustive()
    }
}

/// `POST /otp` for an email magic link or code.
#[derive(Debug, Clone)]
pub(crate) struct OtpParams {
    pub(crate) email: String,
    /// auth-js's `shouldCreateUser`, default `true`.
    pub(crate) create_user: bool,
    pub(crate) data: Option<JsonObject>,
    pub(crate) redirect_to: Option<String>,
    pub(crate) code_challenge: Option<String>,
}

impl Default for OtpParams {
    fn default() -> Self {
        Self {
            email: String::new(),
            create_user: true,
            data: None,
            redirect_to: None,
            code_challenge: None,
        }
    }
}

/// What `POST /signup` returned.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SignUpResponse {
    /// A session (email confirmation off): the whole token response.
    Session(JsonObject),
    /// Only a user (confirmation pending, or an obfuscated already-registered user).
    User(JsonObject),
}

/// What `POST /verify` returned.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum VerifyResponse {
    /// A session: the whole token response.
    Session(JsonObject),
    /// Anything else, e.g. `{"msg":"Confirmation link accepted…","code":"200"}`.
    Other(JsonObject),
}

/// JavaScript truthiness of a JSON value (`!!value`).
pub(crate) fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(_) | Value::Object(_)) => true,
    }
}

/// auth-js `hasSession`: `access_token`, `refresh_token` and `expires_in` all truthy.
pub(crate) fn has_session(body: &JsonObject) -> bool {
    ["access_token", "refresh_token", "expires_in"]
        .iter()
        .all(|key| truthy(body.get(*key)))
}

/// Whether the answer carries a `user` object, as a session answer must.
pub(crate) fn has_user(body: &JsonObject) -> bool {
    matches!(body.get("user"), Some(Value::Object(_)))
}

/// auth-js `_userResponse`: `data.user ?? data`.
pub(crate) fn user_of(mut body: JsonObject) -> Result<JsonObject, AuthError> {
    match body.get("user") {
        Some(Value::Object(_)) => match body.remove("user") {
            Some(Value::Object(user)) => Ok(user),
            _ => Err(AuthError::invalid_response("`user` is not an object")),
        },
        Some(Value::Null) | None => Ok(body),
        Some(_) => Err(AuthError::invalid_response("`user` is not an object")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn truthiness_matches_javascript() {
        for (value, expected) in [
            (json!(null), false),
            (json!(0), false),
            (json!(0.0), false),
            (json!(""), false),
            (json!(false), false),
            (json!(3600), true),
            (json!("x"), true),
            (json!([]), true),
            (json!({}), true),
        ] {
            assert_eq!(truthy(Some(&value)), expected, "{value}");
        }
        assert!(!truthy(None));
    }

    #[test]
    fn scope_parses_only_the_three_names() {
        assert_eq!(
            "others".parse::<SignOutScope>().ok(),
            Some(SignOutScope::Others)
        );
        let err = "Global".parse::<SignOutScope>().err();
        assert!(err.is_some_and(|e| e.status().is_none() && e.code().is_none()));
        assert_eq!(SignOutScope::default().as_str(), "global");
    }

    #[test]
    fn user_of_accepts_both_shapes() {
        let bare = json!({"id": "u1"}).as_object().cloned().unwrap_or_default();
        let wrapped = json!({"user": {"id": "u1"}})
            .as_object()
            .cloned()
            .unwrap_or_default();
        assert_eq!(user_of(bare.clone()).ok(), Some(bare.clone()));
        assert_eq!(user_of(wrapped).ok(), Some(bare));
    }
}
