//! API keys as the local Supabase stack issues them, and the gateway's mapping of
//! `apikey` + `Authorization` to the bearer token GoTrue sees.

/// The local stack's well-known publishable key.
pub(crate) const PUBLISHABLE_KEY: &str = "sb_publishable_ACJWlzQHlZjBrEguHvfOxg_3BJgxAaH";
/// The local stack's well-known secret key.
pub(crate) const SECRET_KEY: &str = "sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz";
/// The local stack's legacy anon JWT (HS256, `{"iss":"supabase-demo","role":"anon","exp":1983812996}`).
pub(crate) const ANON_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0";
/// The local stack's legacy service_role JWT.
pub(crate) const SERVICE_ROLE_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU";

/// Which consumer an `apikey` belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyRole {
    Anon,
    ServiceRole,
}

/// Looks up the consumer of an `apikey` value.
pub(crate) fn role_of(apikey: &str) -> Option<KeyRole> {
    match apikey {
        PUBLISHABLE_KEY | ANON_KEY => Some(KeyRole::Anon),
        SECRET_KEY | SERVICE_ROLE_KEY => Some(KeyRole::ServiceRole),
        _ => None,
    }
}

/// The gateway's rewrite of `Authorization` (see the Kong expression in the
/// Supabase CLI): a non-`sb_` bearer passes unchanged; otherwise the secret and
/// publishable keys become the service_role and anon JWTs; any other `apikey`
/// value is forwarded raw. Returns the value of the `Authorization` header GoTrue sees.
pub(crate) fn effective_authorization(
    authorization: Option<&str>,
    apikey: Option<&str>,
) -> Option<String> {
    if let Some(auth) = authorization
        && !auth.starts_with("Bearer sb_")
    {
        return Some(auth.to_string());
    }
    match apikey {
        Some(SECRET_KEY) => Some(format!("Bearer {SERVICE_ROLE_KEY}")),
        Some(PUBLISHABLE_KEY) => Some(format!("Bearer {ANON_KEY}")),
        Some(other) => Some(other.to_string()),
        None => authorization.map(str::to_string),
    }
}

/// GoTrue's bearer extraction: `(?i)^bearer (\S+$)`.
pub(crate) fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.split_at_checked(7)?;
    if !scheme.eq_ignore_ascii_case("bearer ")
        || token.is_empty()
        || token.contains(char::is_whitespace)
    {
        return None;
    }
    Some(token)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn maps_like_the_gateway() {
        let user = "Bearer eyJuser";
        assert_eq!(
            effective_authorization(Some(user), Some(PUBLISHABLE_KEY)).as_deref(),
            Some(user)
        );
        assert_eq!(
            effective_authorization(Some(&format!("Bearer {SECRET_KEY}")), Some(SECRET_KEY)),
            Some(format!("Bearer {SERVICE_ROLE_KEY}"))
        );
        assert_eq!(
            effective_authorization(None, Some(PUBLISHABLE_KEY)),
            Some(format!("Bearer {ANON_KEY}"))
        );
        assert_eq!(
            effective_authorization(None, Some(ANON_KEY)).as_deref(),
            Some(ANON_KEY)
        );
    }

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer abc"), Some("abc"));
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("Bearer a b"), None);
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bé"), None);
    }

    #[test]
    fn legacy_keys_verify_with_the_shared_secret() {
        let ring_secret =
            jsonwebtoken::DecodingKey::from_secret(crate::keys::JWT_SECRET.as_bytes());
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        v.validate_aud = false;
        for (key, role) in [(ANON_KEY, "anon"), (SERVICE_ROLE_KEY, "service_role")] {
            let data = jsonwebtoken::decode::<serde_json::Value>(key, &ring_secret, &v).unwrap();
            assert_eq!(data.claims["role"], role);
        }
    }
}
