//! [`AuthMode`]: which credentials an endpoint accepts.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// Which named API key an `apikey` mode accepts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyName {
    /// The key named `default` (the bare mode, `publishable` or `secret`).
    Default,
    /// One named key (`secret:automations`).
    Named(Arc<str>),
    /// Any key of the kind (`secret:*`).
    Any,
}

impl KeyName {
    /// A named key (`"default"` and `"*"` mean [`KeyName::Default`] and [`KeyName::Any`]).
    pub fn named(name: impl AsRef<str>) -> Self {
        match name.as_ref() {
            "" | "default" => Self::Default,
            "*" => Self::Any,
            other => Self::Named(Arc::from(other)),
        }
    }

    /// Whether a key called `name` is accepted.
    pub(crate) fn accepts(&self, name: &str) -> bool {
        match self {
            Self::Default => name == "default",
            Self::Named(wanted) => **wanted == *name,
            Self::Any => true,
        }
    }
}

/// One way an endpoint accepts a caller, as `@supabase/server`'s auth modes.
///
/// An endpoint allows one or several. Whatever order they are given in, they are tried
/// in this fixed order, strongest first, and the first that applies decides:
///
/// 1. [`User`](AuthMode::User): an `Authorization: Bearer <access token>` header. A
///    present token is always judged: if it fails verification the request is refused
///    (401), **even when a weaker mode below would have let it in**. Only an absent
///    header (or one carrying one of the project's API keys, as supabase-js sends when
///    signed out) falls through.
/// 2. [`Session`](AuthMode::Session): the cookie session, as verified by the proxy.
///    An explicit `Authorization` header wins over ambient cookies.
/// 3. [`Secret`](AuthMode::Secret), then [`Publishable`](AuthMode::Publishable): the
///    `apikey` header equals a known key (compared in constant time). A key that matches
///    nothing falls through.
/// 4. [`None`](AuthMode::None): anyone.
///
/// Parsed from the strings `@supabase/server` uses: `"user"`, `"publishable"`,
/// `"publishable:web"`, `"secret"`, `"secret:*"`, `"none"`, plus `"session"`.
///
/// ```
/// use supabase_ssr::api_auth::{AuthMode, KeyName};
///
/// let modes: Vec<AuthMode> = ["user", "secret:*"].iter().map(|m| m.parse().unwrap()).collect();
/// assert_eq!(modes, [AuthMode::User, AuthMode::Secret(KeyName::Any)]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthMode {
    /// A user's access token in `Authorization: Bearer`, verified as
    /// [`get_claims`](crate::ServerClient::get_claims) verifies (JWKS, `exp`, `iss`,
    /// `aud`, `sub` required). Never refreshes, never writes cookies.
    User,
    /// The user of the cookie session (for endpoints that browsers of the same site call
    /// as well as other clients). Needs the cookie client, which the adapters' proxy
    /// provides.
    Session,
    /// The `apikey` header holds a publishable key of that name.
    Publishable(KeyName),
    /// The `apikey` header holds a secret key of that name: server-to-server calls.
    Secret(KeyName),
    /// No credential needed.
    None,
}

impl AuthMode {
    /// Where the mode stands in the fixed order (lower goes first).
    pub(crate) fn rank(&self) -> u8 {
        match self {
            Self::User => 0,
            Self::Session => 1,
            Self::Secret(_) => 2,
            Self::Publishable(_) => 3,
            Self::None => 4,
        }
    }
}

/// Why a string is not an [`AuthMode`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown auth mode `{0}`: expected user, session, publishable[:name|*], secret[:name|*] or none"
)]
pub struct UnknownAuthMode(String);

impl FromStr for AuthMode {
    type Err = UnknownAuthMode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (base, name) = match s.split_once(':') {
            Some((base, name)) => (base, Some(name)),
            None => (s, None),
        };
        let key = || name.map_or(KeyName::Default, KeyName::named);
        match (base, name) {
            ("user", None) => Ok(Self::User),
            ("session", None) => Ok(Self::Session),
            ("none", None) => Ok(Self::None),
            ("publishable", _) => Ok(Self::Publishable(key())),
            ("secret", _) => Ok(Self::Secret(key())),
            _ => Err(UnknownAuthMode(s.chars().take(64).collect())),
        }
    }
}

impl fmt::Display for AuthMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (base, key) = match self {
            Self::User => return f.write_str("user"),
            Self::Session => return f.write_str("session"),
            Self::None => return f.write_str("none"),
            Self::Publishable(key) => ("publishable", key),
            Self::Secret(key) => ("secret", key),
        };
        match key {
            KeyName::Default => f.write_str(base),
            KeyName::Named(name) => write!(f, "{base}:{name}"),
            KeyName::Any => write!(f, "{base}:*"),
        }
    }
}

/// The modes of an endpoint, in the order they are tried, without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthModes(Arc<[AuthMode]>);

impl AuthModes {
    /// The modes, sorted into the fixed order of [`AuthMode`].
    pub fn new(modes: impl IntoIterator<Item = AuthMode>) -> Self {
        let mut modes: Vec<AuthMode> = modes.into_iter().collect();
        modes.sort_by_key(AuthMode::rank);
        modes.dedup();
        Self(modes.into())
    }

    /// The modes, in the order they are tried.
    pub fn iter(&self) -> impl Iterator<Item = &AuthMode> {
        self.0.iter()
    }

    /// Whether `mode` is allowed.
    pub fn contains(&self, mode: &AuthMode) -> bool {
        self.0.contains(mode)
    }
}

impl<I: IntoIterator<Item = AuthMode>> From<I> for AuthModes {
    fn from(modes: I) -> Self {
        Self::new(modes)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn modes_parse_and_print_as_supabase_server_spells_them() {
        let cases = [
            ("user", AuthMode::User),
            ("session", AuthMode::Session),
            ("none", AuthMode::None),
            ("publishable", AuthMode::Publishable(KeyName::Default)),
            (
                "publishable:web",
                AuthMode::Publishable(KeyName::named("web")),
            ),
            ("secret", AuthMode::Secret(KeyName::Default)),
            ("secret:*", AuthMode::Secret(KeyName::Any)),
            (
                "secret:automations",
                AuthMode::Secret(KeyName::named("automations")),
            ),
        ];
        for (text, mode) in cases {
            assert_eq!(text.parse::<AuthMode>().unwrap(), mode, "{text}");
            assert_eq!(mode.to_string(), text);
        }
        assert_eq!(
            "secret:default".parse::<AuthMode>().unwrap(),
            AuthMode::Secret(KeyName::Default)
        );
        for bad in ["", "User", "user:x", "none:x", "cookie", "publishable_web"] {
            assert!(bad.parse::<AuthMode>().is_err(), "{bad}");
        }
    }

    #[test]
    fn modes_are_tried_strongest_first_whatever_the_order_given() {
        let modes = AuthModes::new([
            AuthMode::None,
            AuthMode::Publishable(KeyName::Default),
            AuthMode::User,
            AuthMode::Secret(KeyName::Any),
            AuthMode::Session,
            AuthMode::User,
        ]);
        let order: Vec<String> = modes.iter().map(ToString::to_string).collect();
        assert_eq!(
            order,
            ["user", "session", "secret:*", "publishable", "none"]
        );
    }

    #[test]
    fn key_names_accept_what_they_name() {
        assert!(KeyName::Default.accepts("default"));
        assert!(!KeyName::Default.accepts("web"));
        assert!(KeyName::named("web").accepts("web"));
        assert!(!KeyName::named("web").accepts("default"));
        assert!(KeyName::Any.accepts("anything"));
    }
}
