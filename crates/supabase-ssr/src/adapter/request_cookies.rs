//! [`RequestCookies`]: a request's cookies as the client's [`CookieMethods`].

use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::cookies::{Cookie, CookieMethods, SetAllError, SetCookie, parse_cookie_fields};

/// A request's `Cookie` header fields as [`CookieMethods`], recording every cookie the
/// client writes for the response.
///
/// `F` is the framework's header value type, kept as it came (for `http` 1 and 0.2 it is
/// a shared buffer, so nothing is copied): any type that gives its bytes. The one field
/// nearly every request has is handed to the client as it came (the client reads its own
/// cookies there while nothing is written); the fields are parsed into a list only when
/// the client needs it.
pub struct RequestCookies<F> {
    fields: Fields<F>,
    /// Every cookie handed to `set_all`, in order.
    writes: Mutex<Vec<SetCookie>>,
}

/// Nearly every request has one `Cookie` field (HTTP/2 may split it): kept without a
/// list then.
enum Fields<F> {
    One(F),
    Many(Vec<F>),
}

impl<F: AsRef<[u8]>> RequestCookies<F> {
    /// The cookies of a request whose `Cookie` header fields are `fields`, in order.
    pub fn new(fields: impl IntoIterator<Item = F>) -> Self {
        let mut all = fields.into_iter();
        let fields = match (all.next(), all.next()) {
            (None, _) => Fields::Many(Vec::new()),
            (Some(one), None) => Fields::One(one),
            (Some(first), Some(second)) => {
                let mut many = vec![first, second];
                many.extend(all);
                Fields::Many(many)
            }
        };
        Self {
            fields,
            writes: Mutex::new(Vec::new()),
        }
    }

    /// The `Cookie` header fields, as they came.
    pub fn fields(&self) -> impl Iterator<Item = &[u8]> {
        let fields: &[F] = match &self.fields {
            Fields::One(one) => std::slice::from_ref(one),
            Fields::Many(many) => many,
        };
        fields.iter().map(AsRef::as_ref)
    }
}

impl<F> RequestCookies<F> {
    /// The cookies written so far, in order.
    pub fn writes(&self) -> MutexGuard<'_, Vec<SetCookie>> {
        // Only ever extended: the list is whole after a panic elsewhere.
        self.writes.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<F> fmt::Debug for RequestCookies<F> {
    // The fields and writes hold tokens: only their numbers are shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields = match &self.fields {
            Fields::One(_) => 1,
            Fields::Many(many) => many.len(),
        };
        f.debug_struct("RequestCookies")
            .field("fields", &fields)
            .field("writes", &self.writes().len())
            .finish()
    }
}

impl<F: AsRef<[u8]> + Send + Sync> CookieMethods for RequestCookies<F> {
    /// The fields joined as Node.js joins them, parsed as `@supabase/ssr` parses them
    /// (a field that is not UTF-8 is read lossily).
    fn get_all(&self) -> Vec<Cookie> {
        parse_cookie_fields(self.fields())
    }

    fn raw_cookie_header(&self) -> Option<&[u8]> {
        match &self.fields {
            Fields::One(one) => Some(one.as_ref()),
            Fields::Many(_) => None,
        }
    }

    fn set_all(
        &self,
        cookies: &[SetCookie],
        _cache_headers: &[(&'static str, &'static str)],
    ) -> Result<(), SetAllError> {
        // The cache headers go with any cookie (`response_headers`), so only the cookies
        // need keeping.
        self.writes().extend_from_slice(cookies);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::cookies::CookieOptions;

    #[test]
    fn reads_every_field_and_records_writes_in_order() {
        let fields: [&[u8]; 3] = [b"a=1; b=%41", b"c=3; a=2", b"d=\xff"];
        let cookies = RequestCookies::new(fields);
        assert_eq!(
            cookies.raw_cookie_header(),
            None,
            "three fields: the list is read"
        );
        assert_eq!(cookies.fields().collect::<Vec<_>>(), fields);
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
            options: CookieOptions::default_set(),
        };
        cookies.set_all(&[write("x"), write("y")], &[]).unwrap();
        cookies.set_all(&[write("z")], &[]).unwrap();
        let names: Vec<String> = cookies.writes().iter().map(|w| w.name.clone()).collect();
        assert_eq!(names, ["x", "y", "z"]);
        assert_eq!(
            format!("{cookies:?}"),
            "RequestCookies { fields: 3, writes: 3 }"
        );

        let one = RequestCookies::new([&b"a=1; b=2"[..]]);
        assert_eq!(one.raw_cookie_header(), Some(&b"a=1; b=2"[..]));
        assert_eq!(
            one.get_all(),
            [Cookie::new("a", "1"), Cookie::new("b", "2")]
        );

        let none = RequestCookies::new(Vec::<Vec<u8>>::new());
        assert_eq!(none.raw_cookie_header(), None);
        assert_eq!(none.get_all(), []);
    }
}
