//! [`clear_auth_cookies_at_scopes`]: `@supabase/ssr`'s `clearAuthCookiesAtScopes`.

use super::{CookieMethods, CookieOptions, SetAllError, SetCookie, is_chunk_like};

/// Deletes the session cookies (every chunk of `storage_key` the request carries) at
/// other scopes than the client's own: for a site that changed its cookie `Domain` or
/// `Path`, whose browsers still hold cookies at the old scope that a sign-out (which
/// writes at the current scope) cannot reach. What `@supabase/ssr` 0.12's
/// `clearAuthCookiesAtScopes` does, byte for byte.
///
/// For each scope, and each cookie of the request whose name is `storage_key` or one of
/// its chunks, one deletion (`Max-Age=0`, empty value) with the scope's options, all in
/// one `set_all` call with no cache headers. No call when there are no scopes or no such
/// cookie. A browser ignores a deletion for a scope the host does not own, so listing
/// more scopes than needed is safe. Build each scope from the defaults
/// ([`CookieOptions::default_set`], as `@supabase/ssr` merges a scope into its defaults):
///
/// ```
/// use std::sync::Arc;
/// use supabase_ssr::cookies::{CookieJar, CookieOptions, clear_auth_cookies_at_scopes};
///
/// let jar = Arc::new(CookieJar::from_cookie_header("sb-abc-auth-token.0=x; sb-abc-auth-token.1=y; theme=dark"));
/// // After moving from `Domain=.old.example.com` to the host only:
/// let mut old = CookieOptions::default_set();
/// old.domain = Some(".old.example.com".into());
/// clear_auth_cookies_at_scopes(jar.as_ref(), "sb-abc-auth-token", &[old]).unwrap();
/// assert_eq!(jar.set_cookie_headers(), [
///     "sb-abc-auth-token.0=; Max-Age=0; Domain=.old.example.com; Path=/; SameSite=Lax",
///     "sb-abc-auth-token.1=; Max-Age=0; Domain=.old.example.com; Path=/; SameSite=Lax",
/// ]);
/// ```
///
/// (Moving from host-only cookies to a parent `Domain` needs none of this: a sign-out
/// with `cookie_domain` set also deletes the host-only cookies, as `@supabase/ssr` does.)
pub fn clear_auth_cookies_at_scopes(
    cookies: &dyn CookieMethods,
    storage_key: &str,
    scopes: &[CookieOptions],
) -> Result<(), SetAllError> {
    if scopes.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = cookies
        .get_all()
        .into_iter()
        .map(|cookie| cookie.name)
        .filter(|name| is_chunk_like(name, storage_key))
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    let deletions: Vec<SetCookie> = scopes
        .iter()
        .flat_map(|scope| {
            let options = CookieOptions {
                max_age: Some(0),
                ..scope.clone()
            };
            names.iter().map(move |name| SetCookie {
                name: name.clone(),
                value: String::new(),
                options: options.clone(),
            })
        })
        .collect();
    cookies.set_all(&deletions, &[])
}
