//! [`Caller`]: who a request was accepted as.

use std::fmt;
use std::sync::Arc;

use crate::VerifiedClaims;

/// Where a verified user's access token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialSource {
    /// `Authorization: Bearer`.
    Bearer,
    /// The cookie session.
    Cookie,
}

/// A user whose access token was verified, with that token (for the Data API, which
/// runs a request as the user when it carries their token).
///
/// Only this crate makes one, from a token it verified. `Debug` never shows the token.
#[derive(Clone)]
pub struct VerifiedUser {
    claims: VerifiedClaims,
    access_token: Arc<str>,
    source: CredentialSource,
}

impl VerifiedUser {
    pub(crate) fn new(
        claims: VerifiedClaims,
        access_token: &str,
        source: CredentialSource,
    ) -> Self {
        Self {
            claims,
            access_token: Arc::from(access_token),
            source,
        }
    }

    /// The verified claims.
    pub fn claims(&self) -> &VerifiedClaims {
        &self.claims
    }

    /// The user id (`sub`; verification requires it).
    pub fn id(&self) -> &str {
        self.claims.sub.as_deref().unwrap_or_default()
    }

    /// The verified access token. A secret: pass it on to Supabase as the user
    /// (`Authorization: Bearer`), never log it.
    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    /// Whether the token came from `Authorization: Bearer` or the cookie session.
    pub fn source(&self) -> CredentialSource {
        self.source
    }
}

impl fmt::Debug for VerifiedUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedUser")
            .field("claims", &self.claims)
            .field("access_token", &"[redacted]")
            .field("source", &self.source)
            .finish()
    }
}

/// Who a request was accepted as, by the first [`AuthMode`](super::AuthMode) that
/// applied.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Caller {
    /// A verified user (mode `user` or `session`).
    User(VerifiedUser),
    /// The `apikey` header held the publishable key of this name.
    Publishable {
        /// The key's name (`default`, `web`...).
        key_name: Arc<str>,
    },
    /// The `apikey` header held the secret key of this name: a trusted server.
    Secret {
        /// The key's name (`default`, `automations`...).
        key_name: Arc<str>,
    },
    /// Nobody in particular (mode `none`).
    Anonymous,
}

impl Caller {
    /// The verified user, if the caller is one.
    pub fn user(&self) -> Option<&VerifiedUser> {
        match self {
            Self::User(user) => Some(user),
            _ => None,
        }
    }

    /// The verified claims, if the caller is a user.
    pub fn claims(&self) -> Option<&VerifiedClaims> {
        self.user().map(VerifiedUser::claims)
    }

    /// The mode that accepted the request: `user`, `session`, `publishable`, `secret`
    /// or `none`.
    pub fn mode(&self) -> &'static str {
        match self {
            Self::User(user) if user.source == CredentialSource::Cookie => "session",
            Self::User(_) => "user",
            Self::Publishable { .. } => "publishable",
            Self::Secret { .. } => "secret",
            Self::Anonymous => "none",
        }
    }

    /// The name of the API key that matched, for the `apikey` modes.
    pub fn key_name(&self) -> Option<&str> {
        match self {
            Self::Publishable { key_name } | Self::Secret { key_name } => Some(key_name),
            _ => None,
        }
    }
}
