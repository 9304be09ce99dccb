//! Cookies as a server client sees them: the two methods ([`CookieMethods`]) through
//! which it reads a request's cookies and writes a response's, the cookies' settings
//! ([`CookieConfig`], set on the builder), an in-memory implementation ([`CookieJar`]),
//! and [`clear_auth_cookies_at_scopes`]. The codec underneath (chunks, `base64-` values,
//! header parsing, the write plan) is in [`adapter::codec`](crate::adapter::codec).

// The codec's modules: their public items are re-exported in `adapter::codec`.
pub(crate) mod chunk;
pub(crate) mod encode;
pub(crate) mod header;
mod jar;
pub(crate) mod plan;
mod scopes;

use std::fmt;

pub(crate) use chunk::{combine_chunks, is_chunk_like};
pub(crate) use encode::{
    decode_base64_value, decode_value, encode_uri_component, to_base64_value, warn_invalid_json,
};
pub(crate) use header::{RawRead, combined_from_header, parse_cookie_fields, trim_sp_tab_bytes};
pub(crate) use jar::apply_writes;
pub use jar::{CookieJar, SetAllCall};
pub(crate) use plan::plan_writes;
pub use scopes::clear_auth_cookies_at_scopes;

/// `Max-Age` of every cookie written: 400 days, the longest browsers keep.
pub const DEFAULT_MAX_AGE: i64 = 400 * 24 * 60 * 60;

/// The headers a response carrying auth cookies must also carry, so no shared cache
/// stores one user's session for another. Handed to the first [`CookieMethods::set_all`]
/// of each server client, exactly as `@supabase/ssr` does.
pub const CACHE_HEADERS: [(&str, &str); 3] = [
    (
        "Cache-Control",
        "private, no-cache, no-store, must-revalidate, max-age=0",
    ),
    ("Expires", "0"),
    ("Pragma", "no-cache"),
];

/// A cookie as read from a request.
#[derive(Clone, PartialEq, Eq)]
pub struct Cookie {
    /// The name.
    pub name: String,
    /// The value, URI-decoded.
    pub value: String,
}

impl Cookie {
    /// A cookie from its name and value.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

impl fmt::Debug for Cookie {
    // Cookie values hold tokens: only their length is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cookie")
            .field("name", &self.name)
            .field("value_len", &self.value.len())
            .finish()
    }
}

/// The `SameSite` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// `SameSite=Strict`
    Strict,
    /// `SameSite=Lax`, the default.
    Lax,
    /// `SameSite=None` (browsers then require `Secure`).
    None,
}

/// The attributes of a cookie to write.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CookieOptions {
    /// `Path`.
    pub path: Option<String>,
    /// `SameSite`.
    pub same_site: Option<SameSite>,
    /// `HttpOnly`.
    pub http_only: bool,
    /// `Max-Age` in seconds; `Some(0)` deletes the cookie.
    pub max_age: Option<i64>,
    /// `Domain`; `None` makes a host-only cookie.
    pub domain: Option<String>,
    /// `Secure`.
    pub secure: bool,
}

impl CookieOptions {
    /// `Path=/; SameSite=Lax; Max-Age=34560000`, not `HttpOnly`, not `Secure`: what
    /// `@supabase/ssr` writes when nothing is configured.
    pub fn default_set() -> Self {
        Self {
            path: Some("/".into()),
            same_site: Some(SameSite::Lax),
            http_only: false,
            max_age: Some(DEFAULT_MAX_AGE),
            domain: None,
            secure: false,
        }
    }

    /// `true` when these options delete the cookie.
    pub fn is_removal(&self) -> bool {
        self.max_age == Some(0)
    }
}

/// One cookie to write: what [`CookieMethods::set_all`] receives.
#[derive(Clone, PartialEq, Eq)]
pub struct SetCookie {
    /// The name.
    pub name: String,
    /// The value, not yet URI-encoded; empty for a deletion.
    pub value: String,
    /// The attributes.
    pub options: CookieOptions,
}

impl fmt::Debug for SetCookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetCookie")
            .field("name", &self.name)
            .field("value_len", &self.value.len())
            .field("options", &self.options)
            .finish()
    }
}

/// How session values are written into cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CookieEncoding {
    /// `base64-` + unpadded base64url of the JSON: the `@supabase/ssr` default.
    #[default]
    Base64Url,
    /// The JSON itself (URI-encoded on the wire), as `cookieEncoding: "raw"`.
    Raw,
}

/// What the session cookie holds (`@supabase/ssr`'s `cookies.encode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CookieContents {
    /// The whole session, the user object included: the `@supabase/ssr` default
    /// (`"user-and-tokens"`). A user with some metadata or OAuth identities often takes
    /// two or three cookies.
    #[default]
    UserAndTokens,
    /// The session without its `user` (`"tokens-only"`): usually one cookie. The user
    /// is kept for the rest of the request only, so
    /// [`UnverifiedSession::user`](crate::UnverifiedSession::user) is `None` unless
    /// this request signed in, refreshed or updated the user; ask
    /// [`ServerClient::get_user`](crate::ServerClient::get_user) or read the verified
    /// claims instead. Cookies written by either setting are read by both.
    TokensOnly,
}

/// Cookie settings of a project: the storage key and the attributes of written cookies.
///
/// The defaults are those of `@supabase/ssr`; a user-supplied `Max-Age` does not exist
/// because `@supabase/ssr` ignores it too.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CookieConfig {
    /// Overrides the storage key (`sb-<project ref>-auth-token`).
    pub name: Option<String>,
    /// `Domain` of written cookies. When set, every deletion is also sent host-only first.
    pub domain: Option<String>,
    /// `Path`, `/` by default.
    pub path: String,
    /// `SameSite`, `Lax` by default.
    pub same_site: SameSite,
    /// `HttpOnly`, off by default so the browser client can read the session.
    pub http_only: bool,
    /// `Secure`, off by default.
    pub secure: bool,
    /// Value encoding.
    pub encoding: CookieEncoding,
    /// Whether the user object goes into the session cookie.
    pub contents: CookieContents,
    /// Sessions spread over more chunks than this, or longer than this many full chunks
    /// (`max_chunks × MAX_CHUNK_SIZE` bytes), are treated as absent (default 5, about
    /// 15.9 KB, the most `@supabase/ssr` ever probes).
    pub max_chunks: usize,
}

impl Default for CookieConfig {
    fn default() -> Self {
        Self {
            name: None,
            domain: None,
            path: "/".into(),
            same_site: SameSite::Lax,
            http_only: false,
            secure: false,
            encoding: CookieEncoding::Base64Url,
            contents: CookieContents::UserAndTokens,
            max_chunks: 5,
        }
    }
}

impl CookieConfig {
    fn base_options(&self, max_age: i64) -> CookieOptions {
        CookieOptions {
            path: Some(self.path.clone()),
            same_site: Some(self.same_site),
            http_only: self.http_only,
            max_age: Some(max_age),
            domain: self.domain.clone(),
            secure: self.secure,
        }
    }

    /// Options of a cookie being set.
    pub fn set_options(&self) -> CookieOptions {
        self.base_options(DEFAULT_MAX_AGE)
    }

    /// Options of a cookie being deleted.
    pub fn remove_options(&self) -> CookieOptions {
        self.base_options(0)
    }

    /// Encodes a stored value as it goes into cookies.
    pub fn encode_value(&self, value: &str) -> String {
        match self.encoding {
            CookieEncoding::Base64Url => to_base64_value(value),
            CookieEncoding::Raw => value.to_owned(),
        }
    }
}

/// Why [`CookieMethods::set_all`] could not write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAllError {
    message: String,
}

impl SetAllError {
    /// An error with a message (never put a cookie value in it).
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl fmt::Display for SetAllError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cookies could not be written: {}", self.message)
    }
}

impl std::error::Error for SetAllError {}

/// The two cookie methods a server client works through.
///
/// `get_all` returns the request's cookies. `set_all` writes cookies to the response
/// (and, in a proxy, to the request seen downstream); `headers` holds
/// [`CACHE_HEADERS`] on the first write of a client and is empty afterwards. A
/// `set_all` that cannot write (a read-only context, such as a page render after the
/// response started) returns an error: the client logs it and carries on, and the
/// next request through the proxy refreshes the session again.
pub trait CookieMethods: Send + Sync {
    /// The request's cookies, in header order.
    fn get_all(&self) -> Vec<Cookie>;

    /// Writes cookies (deletions are cookies with `Max-Age=0`).
    fn set_all(
        &self,
        cookies: &[SetCookie],
        headers: &[(&'static str, &'static str)],
    ) -> Result<(), SetAllError>;

    /// Optional: the request's one `Cookie` header field, as it came, when there is
    /// exactly one. It must hold the same cookies `get_all` returns.
    ///
    /// With it, a client that only reads (a valid session, no refresh) finds its cookies
    /// in these bytes and never asks for the whole list: no copy of every cookie per
    /// request. Anything it cannot read there exactly as `get_all` would (a `%` escape,
    /// bytes that are not UTF-8) makes it fall back to `get_all`. The default, `None`,
    /// always uses `get_all`.
    fn raw_cookie_header(&self) -> Option<&[u8]> {
        None
    }
}

impl<T: CookieMethods + ?Sized> CookieMethods for std::sync::Arc<T> {
    fn get_all(&self) -> Vec<Cookie> {
        (**self).get_all()
    }

    fn raw_cookie_header(&self) -> Option<&[u8]> {
        (**self).raw_cookie_header()
    }

    fn set_all(
        &self,
        cookies: &[SetCookie],
        headers: &[(&'static str, &'static str)],
    ) -> Result<(), SetAllError> {
        (**self).set_all(cookies, headers)
    }
}
