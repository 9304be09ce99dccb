//! The request's cookies as the core's [`CookieMethods`]: the one `Cookie` header field
//! handed over as it came (the client reads its own cookies there while nothing is
//! written), the fields parsed into a list when the client needs it, and every written
//! cookie recorded for the response.

use std::sync::{Mutex, MutexGuard, PoisonError};

use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};
use supabase_ssr::cookies::{Cookie, CookieMethods, SetAllError, SetCookie, parse_cookie_fields};

pub(crate) struct RequestCookies {
    /// The request's `Cookie` fields as they came (shared bytes, not copies).
    fields: Fields,
    /// Every cookie handed to `set_all`, in order.
    writes: Mutex<Vec<SetCookie>>,
}

/// Nearly every request has one `Cookie` field (HTTP/2 may split it): kept without a
/// list then.
enum Fields {
    One(HeaderValue),
    Many(Vec<HeaderValue>),
}

impl RequestCookies {
    pub(crate) fn new(headers: &HeaderMap) -> Self {
        let mut all = headers.get_all(COOKIE).iter();
        let fields = match (all.next(), all.next()) {
            (Some(one), None) => Fields::One(one.clone()),
            _ => Fields::Many(headers.get_all(COOKIE).iter().cloned().collect()),
        };
        Self {
            fields,
            writes: Mutex::new(Vec::new()),
        }
    }

    /// The cookies written so far.
    pub(crate) fn writes(&self) -> MutexGuard<'_, Vec<SetCookie>> {
        // Only ever extended: the list is whole after a panic elsewhere.
        self.writes.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl CookieMethods for RequestCookies {
    /// The fields joined as Node.js joins them, parsed as `@supabase/ssr` parses them
    /// (a field that is not UTF-8 is read lossily).
    fn get_all(&self) -> Vec<Cookie> {
        match &self.fields {
            Fields::One(one) => parse_cookie_fields([one.as_bytes()]),
            Fields::Many(many) => parse_cookie_fields(many.iter().map(HeaderValue::as_bytes)),
        }
    }

    fn raw_cookie_header(&self) -> Option<&[u8]> {
        match &self.fields {
            Fields::One(one) => Some(one.as_bytes()),
            Fields::Many(_) => None,
        }
    }

    fn set_all(
        &self,
        cookies: &[SetCookie],
        _cache_headers: &[(&'static str, &'static str)],
    ) -> Result<(), SetAllError> {
        // The cache headers are written with any cookie (`write_response_headers`), so
        // only the cookies need keeping.
        self.writes().extend_from_slice(cookies);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_every_field_and_records_writes_in_order() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1; b=%41"));
        headers.append(COOKIE, HeaderValue::from_static("c=3; a=2"));
        headers.append(COOKIE, HeaderValue::from_bytes(b"d=\xff").unwrap());
        let cookies = RequestCookies::new(&headers);
        assert_eq!(
            cookies.raw_cookie_header(),
            None,
            "three fields: the list is read"
        );
        assert_eq!(
            cookies.get_all(),
            [
                Cookie::new("a", "1"),
                Cookie::new("b", "A"),
                Cookie::new("c", "3"),
                Cookie::new("d", "\u{fffd}"),
            ]
        );
        let write = |name: &str| SetCookie {
            name: name.to_owned(),
            value: String::new(),
            options: supabase_ssr::cookies::CookieOptions::default_set(),
        };
        cookies.set_all(&[write("x"), write("y")], &[]).unwrap();
        cookies.set_all(&[write("z")], &[]).unwrap();
        let names: Vec<String> = cookies.writes().iter().map(|w| w.name.clone()).collect();
        assert_eq!(names, ["x", "y", "z"]);

        let mut one = HeaderMap::new();
        one.insert(COOKIE, HeaderValue::from_static("a=1; b=2"));
        assert_eq!(
            RequestCookies::new(&one).raw_cookie_header(),
            Some(&b"a=1; b=2"[..])
        );
    }
}
