//! The claims of a Supabase access token, typed where Supabase defines them.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::JwtError;
use crate::bounded::overwrite_string;

/// The payload of a Supabase Auth access token.
///
/// Claims that Supabase Auth defines are typed fields; every other claim is kept, in order,
/// in [`extra`](Claims::extra). Serializing gives the typed claims in the order Supabase
/// Auth writes them, then the unknown ones.
///
/// Claims are not secret, but they are personal data: `Debug` shows only `sub`, `role`,
/// `aal`, `session_id`, `is_anonymous`, `exp` and how many extra claims there are.
#[derive(Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Claims {
    /// Issuer, e.g. `https://<ref>.supabase.co/auth/v1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Subject: the user id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Audience; Supabase sends one string (`"authenticated"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<Audience>,
    /// Expiry, seconds since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Issue time, seconds since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Not-before time, seconds since the Unix epoch. Supabase Auth never sets it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// The user's email; Supabase sends `""` when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The user's phone; Supabase sends `""` when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// `app_metadata` (provider, providers, custom claims set by the server). Empty if absent.
    pub app_metadata: Map<String, Value>,
    /// `user_metadata` (editable by the user). Empty if absent.
    pub user_metadata: Map<String, Value>,
    /// Postgres role, normally `authenticated`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Authenticator assurance level: `aal1` or `aal2`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aal: Option<String>,
    /// Authentication methods used in this session, newest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<AmrEntry>>,
    /// The Auth session id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Whether the user signed in anonymously.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_anonymous: Option<bool>,
    /// Every other claim, in token order.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Claims {
    /// Parses a JWT payload (the JSON, not its base64url form). Nothing is verified.
    ///
    /// Fails with [`JwtError::Malformed`] if the JSON is not an object, a typed claim has
    /// the wrong type, or a typed claim appears twice.
    pub fn from_payload_json(json: impl AsRef<[u8]>) -> Result<Self, JwtError> {
        serde_json::from_slice(json.as_ref())
            .map_err(|_| JwtError::Malformed("payload is not a valid claims object"))
    }

    /// The audiences of the token: none, one, or several.
    pub fn audiences(&self) -> impl Iterator<Item = &str> + '_ {
        self.aud.iter().flat_map(Audience::iter)
    }
}

// By hand for `clone_from`, which writes into the buffers `self` already holds: the
// verified-token cache rebuilds its oldest entry in place with it, so a full cache stops
// allocating (see `bounded.rs`).
impl Clone for Claims {
    fn clone(&self) -> Self {
        let mut claims = Self::default();
        claims.clone_from(self);
        claims
    }

    fn clone_from(&mut self, source: &Self) {
        // Destructured so that a new field cannot be forgotten here.
        let Self {
            iss,
            sub,
            aud,
            exp,
            iat,
            nbf,
            email,
            phone,
            app_metadata,
            user_metadata,
            role,
            aal,
            amr,
            session_id,
            is_anonymous,
            extra,
        } = source;
        reuse_opt_string(&mut self.iss, iss);
        reuse_opt_string(&mut self.sub, sub);
        self.aud.clone_from(aud);
        self.exp = *exp;
        self.iat = *iat;
        self.nbf = *nbf;
        reuse_opt_string(&mut self.email, email);
        reuse_opt_string(&mut self.phone, phone);
        reuse_object(&mut self.app_metadata, app_metadata);
        reuse_object(&mut self.user_metadata, user_metadata);
        reuse_opt_string(&mut self.role, role);
        reuse_opt_string(&mut self.aal, aal);
        self.amr.clone_from(amr);
        reuse_opt_string(&mut self.session_id, session_id);
        self.is_anonymous = *is_anonymous;
        reuse_object(&mut self.extra, extra);
    }
}

/// [`overwrite_string`] inside an `Option`.
fn reuse_opt_string(to: &mut Option<String>, from: &Option<String>) {
    match (to, from) {
        (Some(to), Some(from)) => overwrite_string(to, from),
        (to, from) => to.clone_from(from),
    }
}

/// `to.clone_from(from)` for JSON objects, reusing the values' buffers too when both
/// have the same keys in the same order (claims of one project nearly always do).
fn reuse_object(to: &mut Map<String, Value>, from: &Map<String, Value>) {
    if to.len() == from.len() && to.keys().eq(from.keys()) {
        for (to, from) in to.values_mut().zip(from.values()) {
            reuse_value(to, from);
        }
    } else {
        to.clone_from(from);
    }
}

/// `to.clone_from(from)` for JSON values, reusing strings, arrays and objects in place.
fn reuse_value(to: &mut Value, from: &Value) {
    match (to, from) {
        (Value::String(to), Value::String(from)) => overwrite_string(to, from),
        (Value::Array(to), Value::Array(from)) => {
            to.truncate(from.len());
            let reused = to.len();
            for (to, from) in to.iter_mut().zip(from) {
                reuse_value(to, from);
            }
            to.extend(from.iter().skip(reused).cloned());
        }
        (Value::Object(to), Value::Object(from)) => reuse_object(to, from),
        (to, from) => *to = from.clone(),
    }
}

impl fmt::Debug for Claims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claims")
            .field("sub", &self.sub)
            .field("role", &self.role)
            .field("aal", &self.aal)
            .field("session_id", &self.session_id)
            .field("is_anonymous", &self.is_anonymous)
            .field("exp", &self.exp)
            .field("extra_claims", &self.extra.len())
            .finish_non_exhaustive()
    }
}

/// The `aud` claim: one string or an array of strings.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// A single audience, as Supabase Auth sends it.
    One(String),
    /// Several audiences.
    Many(Vec<String>),
}

impl Clone for Audience {
    fn clone(&self) -> Self {
        match self {
            Self::One(one) => Self::One(one.clone()),
            Self::Many(many) => Self::Many(many.clone()),
        }
    }

    fn clone_from(&mut self, source: &Self) {
        match (self, source) {
            (Self::One(to), Self::One(from)) => overwrite_string(to, from),
            (Self::Many(to), Self::Many(from)) => to.clone_from(from),
            (to, from) => *to = from.clone(),
        }
    }
}

impl Audience {
    /// Iterates over the audiences.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        let slice: &[String] = match self {
            Self::One(one) => std::slice::from_ref(one),
            Self::Many(many) => many,
        };
        slice.iter().map(String::as_str)
    }

    /// Whether `audience` is one of the audiences.
    pub fn contains(&self, audience: &str) -> bool {
        self.iter().any(|a| a == audience)
    }
}

/// One entry of the `amr` claim.
///
/// Supabase Auth writes objects (`{"method":"password","timestamp":1760000000}`); a plain
/// string entry (RFC 8176 style, e.g. from a custom access-token hook) is read as a method
/// with no timestamp and is written back as an object.
#[derive(Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AmrEntry {
    /// How the user authenticated: `password`, `otp`, `oauth`, `totp`, ...
    pub method: String,
    /// When, in seconds since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    /// The provider, set for `sso/saml`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
}

impl Clone for AmrEntry {
    fn clone(&self) -> Self {
        Self {
            method: self.method.clone(),
            timestamp: self.timestamp,
            provider: self.provider.clone(),
        }
    }

    fn clone_from(&mut self, source: &Self) {
        let Self {
            method,
            timestamp,
            provider,
        } = source;
        overwrite_string(&mut self.method, method);
        self.timestamp = *timestamp;
        reuse_opt_string(&mut self.provider, provider);
    }
}

impl<'de> Deserialize<'de> for AmrEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Method(String),
            Entry {
                method: String,
                #[serde(default)]
                timestamp: Option<NumericDate>,
                #[serde(default)]
                provider: Option<String>,
            },
        }
        Ok(match Repr::deserialize(deserializer)? {
            Repr::Method(method) => Self {
                method,
                timestamp: None,
                provider: None,
            },
            Repr::Entry {
                method,
                timestamp,
                provider,
            } => Self {
                method,
                timestamp: timestamp.map(|t| t.0),
                provider,
            },
        })
    }
}

/// A JWT NumericDate. Integers are taken as they are; a fractional value (allowed by
/// RFC 7519, never sent by Supabase) is floored, which can only make `exp` stricter.
struct NumericDate(i64);

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NumericDateVisitor;

        impl Visitor<'_> for NumericDateVisitor {
            type Value = NumericDate;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number of seconds since the Unix epoch")
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<NumericDate, E> {
                Ok(NumericDate(v))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<NumericDate, E> {
                Ok(NumericDate(i64::try_from(v).unwrap_or(i64::MAX)))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<NumericDate, E> {
                if v.is_finite() {
                    // `as` saturates at the i64 bounds, which is what we want here.
                    #[allow(clippy::cast_possible_truncation)]
                    Ok(NumericDate(v.floor() as i64))
                } else {
                    Err(E::custom("non-finite NumericDate"))
                }
            }
        }

        deserializer.deserialize_any(NumericDateVisitor)
    }
}

/// A JSON string, borrowed from the input when it has no escapes.
pub(super) struct Key<'de>(pub(super) Cow<'de, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Key<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor<'a>(std::marker::PhantomData<&'a ()>);

        impl<'de: 'a, 'a> Visitor<'de> for KeyVisitor<'a> {
            type Value = Key<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }

        deserializer.deserialize_str(KeyVisitor(std::marker::PhantomData))
    }
}

// Hand-written rather than derived with `#[serde(flatten)]`: flatten buffers every claim
// into an intermediate tree first, and this runs on every cache-miss verification.
impl<'de> Deserialize<'de> for Claims {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ClaimsVisitor)
    }
}

struct ClaimsVisitor;

impl<'de> Visitor<'de> for ClaimsVisitor {
    type Value = Claims;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JWT claims object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Claims, A::Error> {
        let mut claims = Claims::default();
        // One bit per typed claim: a repeated typed claim is rejected rather than letting
        // the last (or first) copy win silently.
        let mut seen: u32 = 0;
        macro_rules! once {
            ($bit:expr, $name:literal, $value:expr) => {{
                if seen & (1 << $bit) != 0 {
                    return Err(de::Error::duplicate_field($name));
                }
                seen |= 1 << $bit;
                $value
            }};
        }
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match key.as_ref() {
                "iss" => claims.iss = once!(0, "iss", map.next_value()?),
                "sub" => claims.sub = once!(1, "sub", map.next_value()?),
                "aud" => claims.aud = once!(2, "aud", map.next_value()?),
                "exp" => claims.exp = once!(3, "exp", next_date(&mut map)?),
                "iat" => claims.iat = once!(4, "iat", next_date(&mut map)?),
                "nbf" => claims.nbf = once!(5, "nbf", next_date(&mut map)?),
                "email" => claims.email = once!(6, "email", map.next_value()?),
                "phone" => claims.phone = once!(7, "phone", map.next_value()?),
                "app_metadata" => {
                    claims.app_metadata = once!(8, "app_metadata", next_object(&mut map)?);
                }
                "user_metadata" => {
                    claims.user_metadata = once!(9, "user_metadata", next_object(&mut map)?);
                }
                "role" => claims.role = once!(10, "role", map.next_value()?),
                "aal" => claims.aal = once!(11, "aal", map.next_value()?),
                "amr" => claims.amr = once!(12, "amr", map.next_value()?),
                "session_id" => claims.session_id = once!(13, "session_id", map.next_value()?),
                "is_anonymous" => {
                    claims.is_anonymous = once!(14, "is_anonymous", map.next_value()?);
                }
                _ => {
                    let value: Value = map.next_value()?;
                    claims.extra.insert(key.into_owned(), value);
                }
            }
        }
        Ok(claims)
    }
}

fn next_date<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Option<i64>, A::Error> {
    Ok(map.next_value::<Option<NumericDate>>()?.map(|d| d.0))
}

fn next_object<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Map<String, Value>, A::Error> {
    Ok(map
        .next_value::<Option<Map<String, Value>>>()?
        .unwrap_or_default())
}
