//! [`VerifiedClaims`]: claims that passed verification, shared rather than copied.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Serialize, Serializer};

use super::Claims;

/// The claims of an access token that was verified: its signature checked against the
/// project's JWKS (or the token accepted by the Auth server), its `exp`, `iss` and `aud`
/// checked.
///
/// Only verification makes one ([`ServerClient::get_claims`](crate::ServerClient::get_claims),
/// [`ServerClient::verify_token`](crate::ServerClient::verify_token),
/// [`SupabaseAuth::verify_access_token`](crate::SupabaseAuth::verify_access_token) and the
/// API auth modes built on them), so a function that takes a `VerifiedClaims` cannot be
/// handed claims someone merely decoded. It dereferences to [`Claims`]; cloning it is a reference-count increment,
/// because the claims are shared with the verified-token cache instead of copied on
/// every request.
///
/// ```no_run
/// # async fn f(client: supabase_ssr::ServerClient) -> Result<(), supabase_ssr::AuthError> {
/// if let Some(claims) = client.get_claims().await? {
///     println!("user {}", claims.sub.as_deref().unwrap_or_default());
///     let owned: supabase_ssr::Claims = claims.into_claims();
/// #   let _ = owned;
/// }
/// # Ok(()) }
/// ```
///
/// Claims that were only decoded cannot become `VerifiedClaims`:
///
/// ```compile_fail
/// let decoded = supabase_ssr::Claims::default();
/// let forged = supabase_ssr::VerifiedClaims::new(std::sync::Arc::new(decoded));
/// ```
#[derive(Clone, PartialEq)]
pub struct VerifiedClaims(Arc<Claims>);

impl VerifiedClaims {
    pub(crate) fn new(claims: Arc<Claims>) -> Self {
        Self(claims)
    }

    /// The claims.
    pub fn claims(&self) -> &Claims {
        &self.0
    }

    /// The claims by value (copied only when they are still shared).
    pub fn into_claims(self) -> Claims {
        Arc::unwrap_or_clone(self.0)
    }
}

impl Deref for VerifiedClaims {
    type Target = Claims;

    fn deref(&self) -> &Claims {
        &self.0
    }
}

impl AsRef<Claims> for VerifiedClaims {
    fn as_ref(&self) -> &Claims {
        &self.0
    }
}

impl fmt::Debug for VerifiedClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("VerifiedClaims").field(&*self.0).finish()
    }
}

impl Serialize for VerifiedClaims {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl PartialEq<Claims> for VerifiedClaims {
    fn eq(&self, other: &Claims) -> bool {
        *self.0 == *other
    }
}
