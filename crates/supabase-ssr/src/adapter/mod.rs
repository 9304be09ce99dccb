//! Building blocks for framework adapters: everything a proxy does per request that does
//! not depend on the web framework.
//!
//! This module is for the authors of an adapter (a middleware for axum, actix-web, or any
//! other framework); applications use an adapter crate instead. The cookie codec itself
//! ([`codec`]) is here too, for adapters and tests that handle the cookies directly. An
//! adapter:
//!
//! 1. skips requests for static files ([`is_static_path`]),
//! 2. starts a [`ProxyRequest`] over the request's `Cookie` header fields, checks the
//!    session with [`ProxyRequest::check_session`] (refreshing it when it is expiring),
//! 3. rewrites the request's `Cookie` header so handlers see the refreshed session
//!    ([`ProxyRequest::cookie_header_edit`]),
//! 4. hands handlers the outcome and the client (for sign-in, sign-out, ...) with
//!    [`ProxyRequest::into_parts`], and sends a signed-out request to the login page with
//!    [`login_location`],
//! 5. adds the written cookies and the cache headers to the response, whatever it is,
//!    without repeating the `Set-Cookie` lines the handler already added
//!    ([`ProxyResponse::response_headers`]).
//!
//! The functions work on bytes, so a framework on another version of the `http` crate
//! (actix-web 4 uses `http` 0.2) converts its header values with `as_bytes()` and back;
//! [`ProxyRequest::from_headers`], [`ProxyRequest::rewrite_request_headers`] and
//! [`ProxyResponse::write_response_headers`] do all of it for `http` 1 types (axum,
//! hyper).
//!
//! ```
//! use http::{HeaderMap, HeaderValue, header::COOKIE};
//! use supabase_ssr::adapter::ProxyRequest;
//!
//! # async fn run(auth: supabase_ssr::SupabaseAuth) {
//! let mut request_headers = HeaderMap::new();
//! request_headers.insert(COOKIE, HeaderValue::from_static("theme=dark"));
//!
//! let proxy = ProxyRequest::from_headers(&auth, &request_headers);
//! let outcome = proxy.check_session().await; // Ok(None): no session in the cookies
//! proxy.rewrite_request_headers(&mut request_headers);
//! let (client, response) = proxy.into_parts();
//! // ... the handler runs with `client` and `outcome` ...
//! let mut response_headers = HeaderMap::new();
//! response.write_response_headers(&mut response_headers);
//! # }
//! ```

pub mod codec;
mod headers;
mod paths;
mod proxy;
mod request_cookies;
mod second_factor;

pub use headers::{CookieHeaderEdit, ResponseHeaders, edit_cookie_header, response_headers};
pub use paths::{RedirectPages, is_static_path, login_location};
pub use proxy::{ProxyRequest, ProxyResponse};
pub use request_cookies::RequestCookies;
pub use second_factor::SecondFactor;
