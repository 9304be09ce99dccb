//! Which requests the layer leaves alone: the default matcher.

use http::request::Parts;

/// Path prefixes of static files.
const STATIC_PREFIXES: [&str; 3] = ["/static/", "/_static/", "/assets/"];

/// File extensions of static files, compared without regard to case.
const STATIC_EXTENSIONS: [&str; 12] = [
    ".svg", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".ico", ".css", ".js", ".map", ".woff",
    ".woff2",
];

/// The default matcher of [`SupabaseLayer`](crate::SupabaseLayer): `true` for requests
/// that are static files and so skip the session work.
///
/// A request is skipped when its path
/// - starts with `/static/`, `/_static/` or `/assets/`,
/// - is `/favicon.ico`, or
/// - ends with `.svg`, `.png`, `.jpg`, `.jpeg`, `.gif`, `.webp`, `.ico`, `.css`, `.js`,
///   `.map`, `.woff` or `.woff2`, in any case (`/logo.PNG` too).
///
/// This is the spirit of the matcher the official Next.js guide puts on its proxy
/// (`_next/static`, `_next/image`, `favicon.ico` and image extensions). The query string
/// plays no part. Extend it rather than replace it:
///
/// ```
/// use supabase_ssr_axum::is_static_asset;
/// # fn layer(auth: supabase_ssr::SupabaseAuth) -> supabase_ssr_axum::SupabaseLayer {
/// supabase_ssr_axum::SupabaseLayer::new(auth)
///     .skip_if(|parts| is_static_asset(parts) || parts.uri.path() == "/healthz")
/// # }
/// ```
pub fn is_static_asset(parts: &Parts) -> bool {
    is_static_path(parts.uri.path())
}

pub(crate) fn is_static_path(path: &str) -> bool {
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
        ] {
            assert!(is_static_path(path), "{path} should be skipped");
        }
    }

    #[test]
    fn pages_and_apis_run_through_the_layer() {
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
        ] {
            assert!(!is_static_path(path), "{path} should not be skipped");
        }
    }
}
