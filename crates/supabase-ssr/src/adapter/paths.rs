//! The two path rules of a proxy: which requests are static files, and where a signed-out
//! request is sent.

use super::SecondFactor;
use crate::cookies::encode_uri_component;

/// Path prefixes of static files.
const STATIC_PREFIXES: [&str; 3] = ["/static/", "/_static/", "/assets/"];

/// File extensions of static files, compared without regard to case.
const STATIC_EXTENSIONS: [&str; 13] = [
    ".svg", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".ico", ".css", ".js", ".map", ".woff",
    ".woff2", ".wasm",
];

/// The default matcher of the adapters: `true` for a request path that is a static file,
/// so the proxy skips the session work.
///
/// A path is static when it
/// - starts with `/static/`, `/_static/` or `/assets/`,
/// - is `/favicon.ico`, or
/// - ends with `.svg`, `.png`, `.jpg`, `.jpeg`, `.gif`, `.webp`, `.ico`, `.css`, `.js`,
///   `.map`, `.woff`, `.woff2` or `.wasm` (the client bundles of Leptos and Dioxus), in any
///   case (`/logo.PNG` too).
///
/// This is the spirit of the matcher the official Next.js guide puts on its proxy
/// (`_next/static`, `_next/image`, `favicon.ico` and image extensions). Pass the path
/// alone: the query string plays no part.
///
/// ```
/// use supabase_ssr::adapter::is_static_path;
///
/// assert!(is_static_path("/assets/app.css"));
/// assert!(is_static_path("/logo.PNG"));
/// assert!(!is_static_path("/dashboard"));
/// ```
pub fn is_static_path(path: &str) -> bool {
    if path == "/favicon.ico" || STATIC_PREFIXES.iter().any(|p| path.starts_with(p)) {
        return true;
    }
    STATIC_EXTENSIONS
        .iter()
        .any(|ext| ends_with_ignore_case(path, ext))
}

fn ends_with_ignore_case(path: &str, suffix: &str) -> bool {
    path.len() >= suffix.len()
        && path.as_bytes()[path.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

/// Where a signed-out request goes: `login_path` plus `next=<the original path and query,
/// URI-encoded>`, joined with `&` when `login_path` already has a query.
///
/// `next` comes from the browser: check that it is a local path before redirecting to it
/// after sign-in.
///
/// ```
/// use supabase_ssr::adapter::login_location;
///
/// assert_eq!(login_location("/sign-in", "/dashboard?a=1"), "/sign-in?next=%2Fdashboard%3Fa%3D1");
/// assert_eq!(login_location("/auth?from=app", "/"), "/auth?from=app&next=%2F");
/// ```
pub fn login_location(login_path: &str, original_path_and_query: &str) -> String {
    let separator = if login_path.contains('?') { '&' } else { '?' };
    format!(
        "{login_path}{separator}next={}",
        encode_uri_component(original_path_and_query)
    )
}

/// The pages an adapter's extractors send rejected requests to, each with `next` back to
/// the request ([`login_location`]); a page left out means a status answer instead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedirectPages {
    /// Where a signed-out request goes.
    pub login: Option<String>,
    /// Where a user at `aal1` with a verified factor goes ([`SecondFactor::StepUp`]).
    pub mfa_challenge: Option<String>,
    /// Where a user without a verified factor goes ([`SecondFactor::NoFactor`]).
    pub mfa_enroll: Option<String>,
}

impl RedirectPages {
    /// The `Location` for a signed-out request to `original` (its path and query).
    pub fn login_location(&self, original: &str) -> Option<String> {
        Some(login_location(self.login.as_deref()?, original))
    }

    /// The `Location` for a request that `decision` rejects: the challenge page for
    /// [`SecondFactor::StepUp`], the enroll page for [`SecondFactor::NoFactor`].
    pub fn second_factor_location(&self, decision: SecondFactor, original: &str) -> Option<String> {
        let page = match decision {
            SecondFactor::StepUp => &self.mfa_challenge,
            SecondFactor::NoFactor => &self.mfa_enroll,
            SecondFactor::Passed | SecondFactor::Unavailable => return None,
        };
        Some(login_location(page.as_deref()?, original))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_files_are_skipped() {
        for path in [
            "/static/app.css",
            "/_static/x",
            "/assets/",
            "/assets/deep/a/b",
            "/favicon.ico",
            "/logo.svg",
            "/a/b/photo.JPG",
            "/photo.jpeg",
            "/x.gif",
            "/x.webp",
            "/icon.Ico",
            "/app.css",
            "/app.js",
            "/app.js.map",
            "/font.woff",
            "/font.WOFF2",
            "/img.png",
            "/notes/.css",
            "/pkg/app_bg.wasm",
            "/wasm/App.WASM",
        ] {
            assert!(is_static_path(path), "{path} should be skipped");
        }
    }

    #[test]
    fn pages_and_apis_run_through_the_proxy() {
        for path in [
            "/",
            "/dashboard",
            "/static",
            "/assets",
            "/staticfile.html",
            "/api/data.json",
            "/robots.txt",
            "/favicon.icon",
            "/js",
            "/a.css/page",
            "/x/_static/y",
            "/wasm",
            "/app.wasm/page",
        ] {
            assert!(!is_static_path(path), "{path} should not be skipped");
        }
    }

    #[test]
    fn the_login_location_carries_the_whole_original_path() {
        assert_eq!(
            login_location("/sign-in", "/a b/ü?x=1&y=é#frag"),
            "/sign-in?next=%2Fa%20b%2F%C3%BC%3Fx%3D1%26y%3D%C3%A9%23frag"
        );
    }

    #[test]
    fn redirect_pages_send_each_rejection_to_its_page_with_next() {
        let none = RedirectPages::default();
        assert_eq!(none.login_location("/a"), None);
        assert_eq!(
            none.second_factor_location(SecondFactor::StepUp, "/a"),
            None
        );
        let pages = RedirectPages {
            login: Some("/sign-in".into()),
            mfa_challenge: Some("/mfa/challenge".into()),
            mfa_enroll: Some("/account/mfa?tab=2".into()),
        };
        let original = "/security?x=1";
        assert_eq!(
            pages.login_location(original).as_deref(),
            Some("/sign-in?next=%2Fsecurity%3Fx%3D1")
        );
        assert_eq!(
            pages
                .second_factor_location(SecondFactor::StepUp, original)
                .as_deref(),
            Some("/mfa/challenge?next=%2Fsecurity%3Fx%3D1")
        );
        assert_eq!(
            pages
                .second_factor_location(SecondFactor::NoFactor, original)
                .as_deref(),
            Some("/account/mfa?tab=2&next=%2Fsecurity%3Fx%3D1")
        );
        for decision in [SecondFactor::Passed, SecondFactor::Unavailable] {
            assert_eq!(pages.second_factor_location(decision, original), None);
        }
    }
}
