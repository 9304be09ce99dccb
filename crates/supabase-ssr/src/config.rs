//! The project URL: where the Auth API lives and which cookie name the session uses.

use url::Url;

/// A parsed Supabase project URL.
#[derive(Debug, Clone)]
pub(crate) struct ProjectUrl {
    /// `<url>/auth/v1`, no trailing slash.
    pub(crate) auth_url: String,
    /// `<url>/rest/v1`, no trailing slash: the Data API (PostgREST).
    pub(crate) rest_url: String,
    /// `sb-<first hostname label>-auth-token`.
    pub(crate) storage_key: String,
}

/// Why a project URL was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InvalidUrl(pub(crate) &'static str);

impl ProjectUrl {
    /// Parses the URL as supabase-js does: trimmed, `http` or `https` only, the path
    /// kept (the Auth API is under `<path>/auth/v1`), the storage key from the first
    /// label of the lowercased hostname.
    pub(crate) fn parse(url: &str) -> Result<Self, InvalidUrl> {
        let trimmed = url.trim();
        let lower = trimmed.get(..8).unwrap_or(trimmed).to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            return Err(InvalidUrl(
                "the project URL must start with http:// or https://",
            ));
        }
        let with_slash = if trimmed.ends_with('/') {
            trimmed.to_owned()
        } else {
            format!("{trimmed}/")
        };
        let base = Url::parse(&with_slash)
            .map_err(|_| InvalidUrl("the project URL is not a valid URL"))?;
        let host = base
            .host_str()
            .ok_or(InvalidUrl("the project URL has no host"))?;
        let first_label = host.split('.').next().unwrap_or(host);
        let auth = base
            .join("auth/v1")
            .map_err(|_| InvalidUrl("the project URL cannot hold the Auth path"))?;
        let rest = base
            .join("rest/v1")
            .map_err(|_| InvalidUrl("the project URL cannot hold the Data API path"))?;
        Ok(Self {
            auth_url: auth.as_str().trim_end_matches('/').to_owned(),
            rest_url: rest.as_str().trim_end_matches('/').to_owned(),
            storage_key: format!("sb-{first_label}-auth-token"),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn storage_keys_and_auth_urls_match_supabase_js() {
        let cases = [
            (
                "https://abcdefghijklmnop.supabase.co",
                "sb-abcdefghijklmnop-auth-token",
                "https://abcdefghijklmnop.supabase.co/auth/v1",
            ),
            (
                "https://api.example.com",
                "sb-api-auth-token",
                "https://api.example.com/auth/v1",
            ),
            (
                "http://127.0.0.1:54321",
                "sb-127-auth-token",
                "http://127.0.0.1:54321/auth/v1",
            ),
            (
                "http://localhost:54321",
                "sb-localhost-auth-token",
                "http://localhost:54321/auth/v1",
            ),
            (
                "https://ABC.Example.com/",
                "sb-abc-auth-token",
                "https://abc.example.com/auth/v1",
            ),
            (
                "https://x.supabase.co/some/path",
                "sb-x-auth-token",
                "https://x.supabase.co/some/path/auth/v1",
            ),
            (
                "  HTTPS://x.supabase.co  ",
                "sb-x-auth-token",
                "https://x.supabase.co/auth/v1",
            ),
        ];
        for (url, key, auth) in cases {
            let p = ProjectUrl::parse(url).unwrap();
            assert_eq!(
                (p.storage_key.as_str(), p.auth_url.as_str()),
                (key, auth),
                "{url}"
            );
            assert_eq!(p.rest_url, auth.replace("/auth/v1", "/rest/v1"), "{url}");
        }
        assert!(ProjectUrl::parse("ftp://x.supabase.co").is_err());
        assert!(ProjectUrl::parse("x.supabase.co").is_err());
        assert!(ProjectUrl::parse("").is_err());
    }
}
