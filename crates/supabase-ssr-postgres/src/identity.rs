//! Who a scoped transaction runs as, and the one way to get it: from verified claims.

use std::fmt;

use supabase_ssr::VerifiedClaims;

/// The claims of a signed-out request, as PostgREST sees a request without a user token.
const ANON_CLAIMS: &str = r#"{"role":"anon"}"#;

/// The longest role name an [`UnsupportedRole`] prints; role names come from tokens, so a
/// log line stays bounded whatever a custom access-token hook put there.
const MAX_ROLE_DISPLAY: usize = 64;

/// The Postgres role a scoped transaction runs as.
///
/// Only the two roles Supabase gives its API users are assumed, as `@supabase/server`
/// does: a token naming any other role is refused ([`UnsupportedRole`]), never mapped to
/// one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DbRole {
    /// A signed-in user: the `authenticated` role.
    Authenticated,
    /// A signed-out request (or a token whose role is `anon`): the `anon` role.
    Anon,
}

impl DbRole {
    /// The role's name in Postgres: `"authenticated"` or `"anon"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Authenticated => "authenticated",
            Self::Anon => "anon",
        }
    }

    fn from_claim(role: &str) -> Option<Self> {
        match role {
            "authenticated" => Some(Self::Authenticated),
            "anon" => Some(Self::Anon),
            _ => None,
        }
    }
}

impl fmt::Display for DbRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who a scoped transaction runs as: a role and the claims `auth.uid()`, `auth.role()` and
/// `auth.jwt()` read.
///
/// It is built only from [`VerifiedClaims`] (or [`DbIdentity::anon`] for a signed-out
/// request), so claims someone merely decoded from a cookie cannot reach the database.
///
/// `Debug` shows the role and whether there is a `sub`, never the claims: they are
/// personal data.
///
/// Claims that were only decoded are not accepted:
///
/// ```compile_fail
/// let decoded = supabase_ssr::Claims::default();
/// let identity = supabase_ssr_postgres::DbIdentity::from_claims(&decoded);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct DbIdentity {
    role: DbRole,
    /// The `sub` claim, `""` when there is none.
    sub: String,
    claims_json: String,
}

impl DbIdentity {
    /// The identity of the user these verified claims belong to.
    ///
    /// The `role` claim decides the Postgres role: `authenticated` or `anon`. Any other
    /// role (`service_role`, a custom role such as `editor`) or a missing one is refused
    /// with [`UnsupportedRole`]; nothing is downgraded. The claims handed to the database
    /// are all of them, custom claims included, serialized as JSON.
    pub fn from_claims(claims: &VerifiedClaims) -> Result<Self, UnsupportedRole> {
        let Some(role) = claims.role.as_deref().and_then(DbRole::from_claim) else {
            return Err(UnsupportedRole {
                role: claims.role.clone(),
            });
        };
        // Cannot fail: `Claims` serializes strings, numbers, booleans and
        // `serde_json::Value`s under string keys, and a `Value` never holds NaN or
        // infinities; serde_json only errors on non-string map keys or a failing
        // `Serialize` impl.
        let claims_json = serde_json::to_string(claims)
            .expect("claims always serialize to JSON (string keys, serde_json values)");
        Ok(Self {
            role,
            sub: claims.sub.clone().unwrap_or_default(),
            claims_json,
        })
    }

    /// The identity of a signed-out request: role `anon`, claims `{"role":"anon"}`, so
    /// `auth.uid()` is null and `auth.role()` is `anon`.
    pub fn anon() -> Self {
        Self {
            role: DbRole::Anon,
            sub: String::new(),
            claims_json: ANON_CLAIMS.to_owned(),
        }
    }

    /// The Postgres role.
    pub fn role(&self) -> DbRole {
        self.role
    }

    /// The claims as the JSON that `request.jwt.claims` is set to.
    pub fn claims_json(&self) -> &str {
        &self.claims_json
    }

    /// The `sub` claim (the user id), `""` for `anon`: what `request.jwt.claim.sub` is
    /// set to.
    pub(crate) fn sub(&self) -> &str {
        &self.sub
    }
}

impl fmt::Debug for DbIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbIdentity")
            .field("role", &self.role)
            .field(
                "sub",
                &if self.sub.is_empty() {
                    "absent"
                } else {
                    "present"
                },
            )
            .finish_non_exhaustive()
    }
}

/// A token whose role is neither `authenticated` nor `anon` (or that has no role).
///
/// Such a token is refused rather than run as `authenticated` or `anon`: a query as the
/// wrong identity silently returns no rows, which is hard to debug, and a `service_role`
/// token is a request to bypass row-level security, which has its own, explicitly named
/// API ([`RlsPool::begin_bypassing_rls`](crate::RlsPool::begin_bypassing_rls)).
#[derive(Clone, PartialEq, Eq)]
pub struct UnsupportedRole {
    role: Option<String>,
}

impl UnsupportedRole {
    /// The role the token named, if it named one.
    pub fn role(&self) -> Option<&str> {
        self.role.as_deref()
    }
}

impl fmt::Display for UnsupportedRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.role {
            Some(role) => {
                f.write_str("the token's role `")?;
                // Escaped and bounded: the role comes from a token and goes to logs.
                for c in role.chars().take(MAX_ROLE_DISPLAY) {
                    write!(f, "{}", c.escape_debug())?;
                }
                if role.chars().nth(MAX_ROLE_DISPLAY).is_some() {
                    f.write_str("...")?;
                }
                f.write_str("` is not supported")?;
            }
            None => f.write_str("the token has no role claim")?,
        }
        f.write_str(
            ": a row-level-security-scoped transaction runs only as `authenticated` or \
             `anon`; to bypass row-level security, use the admin path explicitly \
             (`RlsPool::begin_bypassing_rls`)",
        )
    }
}

impl std::error::Error for UnsupportedRole {}

impl fmt::Debug for UnsupportedRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnsupportedRole")
            .field("role", &self.role)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_have_their_postgres_names() {
        assert_eq!(DbRole::Authenticated.as_str(), "authenticated");
        assert_eq!(DbRole::Anon.as_str(), "anon");
        assert_eq!(DbRole::Anon.to_string(), "anon");
        assert_eq!(DbRole::from_claim("service_role"), None);
        assert_eq!(DbRole::from_claim("Authenticated"), None);
        assert_eq!(DbRole::from_claim(""), None);
    }

    #[test]
    fn anon_identity() {
        let anon = DbIdentity::anon();
        assert_eq!(anon.role(), DbRole::Anon);
        assert_eq!(anon.claims_json(), r#"{"role":"anon"}"#);
        assert_eq!(
            format!("{anon:?}"),
            r#"DbIdentity { role: Anon, sub: "absent", .. }"#
        );
    }

    #[test]
    fn unsupported_role_messages() {
        let service = UnsupportedRole {
            role: Some("service_role".into()),
        };
        assert_eq!(service.role(), Some("service_role"));
        assert_eq!(
            service.to_string(),
            "the token's role `service_role` is not supported: a row-level-security-scoped \
             transaction runs only as `authenticated` or `anon`; to bypass row-level \
             security, use the admin path explicitly (`RlsPool::begin_bypassing_rls`)"
        );
        let missing = UnsupportedRole { role: None };
        assert_eq!(missing.role(), None);
        assert!(
            missing
                .to_string()
                .starts_with("the token has no role claim: a row-level")
        );
    }

    #[test]
    fn unsupported_role_display_is_escaped_and_bounded() {
        let odd = UnsupportedRole {
            role: Some(format!("a\nb`{}", "x".repeat(100))),
        };
        let shown = odd.to_string();
        assert!(
            shown.starts_with(&format!(
                "the token's role `a\\nb`{}...` is",
                "x".repeat(60)
            )),
            "{shown}"
        );
        assert!(!shown.contains('\n'));
    }
}
