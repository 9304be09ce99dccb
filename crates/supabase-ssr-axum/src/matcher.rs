//! Which requests the layer leaves alone: the default matcher.

use http::request::Parts;
use supabase_ssr::adapter::is_static_path;

/// The default matcher of [`SupabaseLayer`](crate::SupabaseLayer): `true` for requests
/// that are static files and so skip the session work.
///
/// A request is skipped when its path
/// - starts with `/static/`, `/_static/` or `/assets/`,
/// - is `/favicon.ico`, or
/// - ends with `.svg`, `.png`, `.jpg`, `.jpeg`, `.gif`, `.webp`, `.ico`, `.css`, `.js`,
///   `.map`, `.woff`, `.woff2` or `.wasm`, in any case (`/logo.PNG` too).
///
/// This is [`supabase_ssr::adapter::is_static_path`] on the request's path (the query
/// string plays no part), the rule every adapter shares. Extend it rather than replace
/// it:
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
