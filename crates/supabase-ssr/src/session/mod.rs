//! Sessions and users as Supabase Auth returns them and auth-js stores them.
//!
//! A session is kept as the exact JSON auth-js would store (unknown fields and key
//! order preserved); the hot path reads only the tokens and `expires_at` out of it,
//! skipping the user object without building it.

mod cache;
mod js_json;

pub(crate) use cache::{DEFAULT_MAX_ENTRIES as SESSION_CACHE_ENTRIES, SessionCache};

pub(crate) use js_json::array_index;

use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::cookies::CookieContents;

/// A session read from cookies or just issued by the Auth server.
///
/// **Unverified**: on the server, anything read from cookies was written by the
/// browser and may be forged. Use [`crate::ServerClient::get_claims`] (verified
/// locally) or [`crate::ServerClient::get_user`] (asks the Auth server) before trusting
/// who the user is.
#[derive(Clone)]
pub struct UnverifiedSession {
    /// One allocation shared by every copy (the decoded-session cache's included), so a
    /// copy costs one reference count, not one per field: on a cache hit that count sits
    /// on a line the request has to fetch from memory anyway.
    data: Arc<SessionData>,
    user: UserSlot,
}

struct SessionData {
    json: Box<str>,
    access_token: Box<str>,
    refresh_token: Box<str>,
    expires_at: i64,
    /// The verification of `access_token`.
    memo: crate::jwt::VerifiedMemo,
}

/// Where [`UnverifiedSession::user`] comes from.
#[derive(Clone)]
enum UserSlot {
    /// The `user` of the stored JSON (the default cookie contents).
    InJson,
    /// Kept apart from the stored JSON (tokens-only cookies): the user this request got
    /// from the Auth server, if any.
    Split(Option<Arc<User>>),
}

/// The fields every stored session must have, read without building the rest.
#[derive(Deserialize)]
struct StoredFields<'a> {
    #[serde(borrow)]
    access_token: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    refresh_token: Option<std::borrow::Cow<'a, str>>,
    expires_at: Option<f64>,
}

/// What reading a stored session value gave.
#[derive(Debug)]
pub(crate) enum Stored {
    /// A usable session.
    Valid(UnverifiedSession),
    /// JSON, but not a session (auth-js deletes such cookies).
    Invalid,
    /// Not JSON at all: treated as absent and left in place, as auth-js does.
    Unreadable,
}

impl UnverifiedSession {
    /// Reads a stored session (the decoded cookie value).
    pub(crate) fn from_stored_json(json: &str) -> Stored {
        let fields = match serde_json::from_str::<StoredFields<'_>>(json) {
            Ok(fields) => fields,
            Err(e) if e.is_data() => return Stored::Invalid,
            Err(_) => return Stored::Unreadable,
        };
        match (fields.access_token, fields.refresh_token, fields.expires_at) {
            (Some(at), Some(rt), Some(exp)) if exp.is_finite() => {
                // `expires_at` is whole seconds in every writer; a fraction is floored.
                let expires_at = exp.floor() as i64;
                Stored::Valid(Self {
                    data: Arc::new(SessionData {
                        access_token: Box::from(at.as_ref()),
                        refresh_token: Box::from(rt.as_ref()),
                        json: Box::from(json),
                        expires_at,
                        memo: crate::jwt::VerifiedMemo::default(),
                    }),
                    user: UserSlot::InJson,
                })
            }
            _ => Stored::Invalid,
        }
    }

    /// Builds the session auth-js would store from an Auth server response: the
    /// response object as it came, with `expires_at` set to `round(now / 1000) +
    /// expires_in` when it is missing or falsy. `None` when the object is not a session
    /// (auth-js requires truthy `access_token`, `refresh_token` and `expires_in`).
    pub fn from_auth_response(body: Map<String, Value>, now_millis: i64) -> Option<Self> {
        Self::from_auth_response_as(body, now_millis, CookieContents::UserAndTokens)
    }

    /// [`Self::from_auth_response`] for cookies holding `contents`. Tokens only: the
    /// stored JSON is the session without its `user` key (the other keys in their
    /// order), as auth-js's `_saveSession` stores it when the user is kept apart; the
    /// user, when the response has one, is kept on this value only.
    pub(crate) fn from_auth_response_as(
        mut body: Map<String, Value>,
        now_millis: i64,
        contents: CookieContents,
    ) -> Option<Self> {
        // auth-js: a session needs truthy `access_token`, `refresh_token`, `expires_in`.
        if !["access_token", "refresh_token", "expires_in"]
            .iter()
            .all(|k| js_json::truthy(body.get(*k)))
        {
            return None;
        }
        let split_user = match contents {
            CookieContents::UserAndTokens => None,
            CookieContents::TokensOnly => Some(match body.shift_remove("user") {
                Some(Value::Object(user)) => Some(Arc::new(User::from_map(user))),
                _ => None,
            }),
        };
        if !js_json::truthy(body.get("expires_at")) {
            // Replaces a falsy value in place, or appends.
            body.insert("expires_at".into(), expires_at_from(&body, now_millis)?);
        }
        let json = js_json::stringify(&Value::Object(body));
        match Self::from_stored_json(&json) {
            Stored::Valid(s) => Some(match split_user {
                Some(user) => s.with_split_user(user),
                None => s,
            }),
            Stored::Invalid | Stored::Unreadable => None,
        }
    }

    /// This session with its user kept apart from the stored JSON (tokens-only
    /// cookies): `user` is what [`Self::user`] returns, whatever the JSON holds.
    pub(crate) fn with_split_user(mut self, user: Option<Arc<User>>) -> Self {
        self.user = UserSlot::Split(user);
        self
    }

    /// The user kept apart from the stored JSON, when there is one.
    pub(crate) fn split_user(&self) -> Option<&Arc<User>> {
        match &self.user {
            UserSlot::Split(user) => user.as_ref(),
            UserSlot::InJson => None,
        }
    }

    /// The verification of the access token, kept with the session.
    pub(crate) fn verified_memo(&self) -> &crate::jwt::VerifiedMemo {
        &self.data.memo
    }

    /// The access token (a JWT).
    pub fn access_token(&self) -> &str {
        &self.data.access_token
    }

    /// The refresh token.
    pub fn refresh_token(&self) -> &str {
        &self.data.refresh_token
    }

    /// Expiry of the access token, Unix seconds.
    pub fn expires_at(&self) -> i64 {
        self.data.expires_at
    }

    /// The session JSON exactly as stored in the cookies.
    pub fn as_json(&self) -> &str {
        &self.data.json
    }

    /// The user of the session, if any: the one stored in the cookie, parsed on each
    /// call. With [`CookieContents::TokensOnly`] cookies, the user this request got from
    /// the Auth server (by signing in, refreshing or updating the user) and `None`
    /// otherwise, even when the cookie holds one: `@supabase/ssr` does the same.
    pub fn user(&self) -> Option<User> {
        if let UserSlot::Split(user) = &self.user {
            return user.as_deref().cloned();
        }
        #[derive(Deserialize)]
        struct WithUser {
            user: Option<Map<String, Value>>,
        }
        serde_json::from_str::<WithUser>(&self.data.json)
            .ok()?
            .user
            .map(User::from_map)
    }

    /// `true` when the access token expires within `margin_secs` of `now_millis`
    /// (auth-js: `expires_at * 1000 - now < margin`).
    pub(crate) fn expires_within(&self, now_millis: i64, margin_millis: i64) -> bool {
        self.data
            .expires_at
            .saturating_mul(1000)
            .saturating_sub(now_millis)
            < margin_millis
    }

    /// `true` when the access token has expired (`expires_at * 1000 <= now`).
    pub(crate) fn is_expired(&self, now_millis: i64) -> bool {
        self.data.expires_at.saturating_mul(1000) <= now_millis
    }
}

/// auth-js's `Math.round(Date.now() / 1000) + expires_in` for an Auth answer, as JSON;
/// `None` when the answer has no numeric `expires_in`.
pub(crate) fn expires_at_from(answer: &Map<String, Value>, now_millis: i64) -> Option<Value> {
    let expires_in = answer.get("expires_in").and_then(Value::as_f64)?;
    let now_secs = (now_millis as f64 / 1000.0).round();
    Some(json_number(now_secs + expires_in))
}

/// A number as `JSON.stringify` writes it (an integral value without a fraction).
fn json_number(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Value::from(f as i64)
    } else {
        serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

impl fmt::Debug for UnverifiedSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnverifiedSession")
            .field("access_token", &"[redacted]")
            .field("refresh_token", &"[redacted]")
            .field("expires_at", &self.data.expires_at)
            .finish()
    }
}

/// A Supabase Auth user, every field kept as the server sent it.
#[derive(Clone, PartialEq)]
pub struct User {
    map: Map<String, Value>,
}

impl User {
    pub(crate) fn from_map(map: Map<String, Value>) -> Self {
        Self { map }
    }

    fn str_field(&self, key: &str) -> Option<&str> {
        self.map.get(key).and_then(Value::as_str)
    }

    /// The user id (a UUID).
    pub fn id(&self) -> &str {
        self.str_field("id").unwrap_or_default()
    }

    /// The email address, if any (the server sends `""` when there is none).
    pub fn email(&self) -> Option<&str> {
        self.str_field("email").filter(|e| !e.is_empty())
    }

    /// The phone number, if any.
    pub fn phone(&self) -> Option<&str> {
        self.str_field("phone").filter(|p| !p.is_empty())
    }

    /// The role, normally `authenticated`.
    pub fn role(&self) -> Option<&str> {
        self.str_field("role")
    }

    /// The user's MFA factors, verified or not, as the server listed them (none when
    /// the user has none). From a cookie session they are unverified like the rest of
    /// it; [`Mfa::list_factors`](crate::mfa::Mfa::list_factors) asks the server.
    pub fn factors(&self) -> Vec<crate::mfa::Factor> {
        self.map
            .get("factors")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(Value::as_object)
                    .map(|f| crate::mfa::Factor::from_map(f.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `true` for anonymous users.
    pub fn is_anonymous(&self) -> bool {
        self.map
            .get("is_anonymous")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// `user_metadata`.
    pub fn user_metadata(&self) -> Option<&Map<String, Value>> {
        self.map.get("user_metadata").and_then(Value::as_object)
    }

    /// `app_metadata`.
    pub fn app_metadata(&self) -> Option<&Map<String, Value>> {
        self.map.get("app_metadata").and_then(Value::as_object)
    }

    /// The whole user object.
    pub fn as_json(&self) -> &Map<String, Value> {
        &self.map
    }

    /// The whole user object, owned.
    pub fn into_json(self) -> Map<String, Value> {
        self.map
    }
}

impl fmt::Debug for User {
    // The user object holds personal data but no secrets; show who it is.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id())
            .field("email", &self.email())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn obj(s: &str) -> Map<String, Value> {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn expires_at_is_appended_like_auth_js() {
        let body = obj(
            r#"{"access_token":"a.b.c","token_type":"bearer","expires_in":3600,"refresh_token":"rt","user":{"id":"u","email":"é@x"},"weird_extra":"x"}"#,
        );
        let s = UnverifiedSession::from_auth_response(body, 1_795_797_822_600).unwrap();
        assert_eq!(
            s.as_json(),
            r#"{"access_token":"a.b.c","token_type":"bearer","expires_in":3600,"refresh_token":"rt","user":{"id":"u","email":"é@x"},"weird_extra":"x","expires_at":1795801423}"#
        );
        assert_eq!(s.expires_at(), 1_795_801_423);
        assert_eq!(s.user().unwrap().email(), Some("é@x"));
        assert!(!format!("{s:?}").contains("a.b.c"));
    }

    #[test]
    fn tokens_only_keeps_the_user_apart_and_the_other_keys_in_order() {
        let body = obj(
            r#"{"access_token":"a.b.c","user":{"id":"u","email":"é@x"},"expires_in":3600,"refresh_token":"rt","weird_extra":"x"}"#,
        );
        let s = UnverifiedSession::from_auth_response_as(
            body,
            1_795_797_822_600,
            CookieContents::TokensOnly,
        )
        .unwrap();
        assert_eq!(
            s.as_json(),
            r#"{"access_token":"a.b.c","expires_in":3600,"refresh_token":"rt","weird_extra":"x","expires_at":1795801423}"#
        );
        assert_eq!(s.user().unwrap().email(), Some("é@x"));
        assert_eq!(s.split_user().map(|u| u.id()), Some("u"));

        // No user (or not an object): nothing kept, and no `user` key either way.
        let body = obj(r#"{"access_token":"t","expires_in":1,"refresh_token":"r","user":null}"#);
        let s =
            UnverifiedSession::from_auth_response_as(body, 0, CookieContents::TokensOnly).unwrap();
        assert_eq!(
            s.as_json(),
            r#"{"access_token":"t","expires_in":1,"refresh_token":"r","expires_at":1}"#
        );
        assert!(s.user().is_none() && s.split_user().is_none());

        // A stored user is hidden once the user is kept apart.
        let Stored::Valid(s) = UnverifiedSession::from_stored_json(
            r#"{"access_token":"a","refresh_token":"r","expires_at":1,"user":{"id":"u"}}"#,
        ) else {
            panic!("a session")
        };
        assert_eq!(s.user().map(|u| u.id().to_owned()).as_deref(), Some("u"));
        assert!(s.with_split_user(None).user().is_none());
    }

    #[test]
    fn present_expires_at_is_kept_in_place() {
        let body = obj(r#"{"access_token":"t","expires_at":5,"expires_in":1,"refresh_token":"r"}"#);
        let s = UnverifiedSession::from_auth_response(body, 0).unwrap();
        assert_eq!(
            s.as_json(),
            r#"{"access_token":"t","expires_at":5,"expires_in":1,"refresh_token":"r"}"#
        );
        assert!(s.expires_within(4_000, 1_001));
        assert!(!s.expires_within(4_000, 1_000));
        assert!(s.is_expired(5_000));
        assert!(!s.is_expired(4_999));
    }

    #[test]
    fn stored_values_must_hold_the_three_fields() {
        assert!(matches!(
            UnverifiedSession::from_stored_json(r#"{"access_token":"a","refresh_token":"r"}"#),
            Stored::Invalid
        ));
        assert!(matches!(
            UnverifiedSession::from_stored_json("\"just a string\""),
            Stored::Invalid
        ));
        // Not JSON: absent, and left alone (auth-js's getItemAsync gives null).
        assert!(matches!(
            UnverifiedSession::from_stored_json("{\"access_token\":"),
            Stored::Unreadable
        ));
        assert!(matches!(
            UnverifiedSession::from_stored_json("{} x"),
            Stored::Unreadable
        ));
        assert!(matches!(
            UnverifiedSession::from_stored_json(
                r#"{"access_token":"a","refresh_token":"r","expires_at":1}"#
            ),
            Stored::Valid(_)
        ));
    }
}
