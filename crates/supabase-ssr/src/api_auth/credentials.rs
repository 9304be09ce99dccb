//! [`Credentials`]: what a request presents, read from exactly two headers.

use std::fmt;

use http::HeaderMap;
use http::header::AUTHORIZATION;

/// What the `Authorization` header holds.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Authorization<'a> {
    /// No header, a scheme other than `Bearer` (someone else's credential, such as a
    /// proxy's `Basic`), or `Bearer` with nothing after it.
    Absent,
    /// A bearer token: a user's access token, to be verified.
    Bearer(&'a str),
    /// An `sb_` API key in the bearer slot, as supabase-js sends its key when nobody
    /// is signed in: not a user credential.
    ApiKey,
    /// A `Bearer` header that cannot be read (several headers, bytes that are not
    /// visible ASCII, spaces inside the token): refused like an invalid token.
    Unreadable(&'static str),
}

/// The credentials a request presents: `Authorization: Bearer <token>` and `apikey`,
/// read and not yet checked.
///
/// ```
/// use supabase_ssr::api_auth::Credentials;
///
/// let mut headers = http::HeaderMap::new();
/// headers.insert("authorization", "Bearer eyJhbGciOi.x.y".parse().unwrap());
/// headers.insert("apikey", "sb_publishable_abc".parse().unwrap());
/// let credentials = Credentials::from_headers(&headers);
/// assert_eq!(credentials.bearer_token(), Some("eyJhbGciOi.x.y"));
/// assert_eq!(credentials.apikey(), Some("sb_publishable_abc"));
/// ```
///
/// `Debug` shows which credentials are present, never their values.
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    pub(crate) authorization: Authorization<'a>,
    pub(crate) apikey: Option<&'a str>,
}

impl<'a> Credentials<'a> {
    /// Reads the two headers.
    ///
    /// `Authorization`: the scheme `Bearer` is matched in any case (RFC 9110), the token
    /// is what follows the spaces after it; an empty token counts as absent. A value
    /// starting with `sb_` is an API key, not a user's token. Other schemes are
    /// ignored. More than one `Authorization` header, or a bearer value that is not
    /// visible ASCII without spaces, is unreadable and refused.
    ///
    /// `apikey`: the value as sent; absent when missing, empty, not visible ASCII, or
    /// sent more than once.
    pub fn from_headers(headers: &'a HeaderMap) -> Self {
        Self::from_values(
            headers.get_all(AUTHORIZATION).iter().map(|v| v.as_bytes()),
            headers.get_all("apikey").iter().map(|v| v.as_bytes()),
        )
    }

    /// Reads the values of the two headers, in order, as [`Self::from_headers`] does:
    /// for adapters whose header types are not `http` 1's (see
    /// [`adapter`](crate::adapter)).
    pub fn from_values(
        authorization: impl IntoIterator<Item = &'a [u8]>,
        apikey: impl IntoIterator<Item = &'a [u8]>,
    ) -> Self {
        Self {
            authorization: read_authorization(authorization),
            apikey: read_single(apikey).filter(|v| !v.is_empty()),
        }
    }

    /// No credentials at all.
    pub fn none() -> Self {
        Self {
            authorization: Authorization::Absent,
            apikey: None,
        }
    }

    /// The bearer token, when the `Authorization` header holds one that may be a
    /// user's access token.
    pub fn bearer_token(&self) -> Option<&'a str> {
        match self.authorization {
            Authorization::Bearer(token) => Some(token),
            _ => None,
        }
    }

    /// The `apikey` header's value.
    pub fn apikey(&self) -> Option<&'a str> {
        self.apikey
    }
}

impl fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let authorization = match self.authorization {
            Authorization::Absent => "absent",
            Authorization::Bearer(_) => "bearer token",
            Authorization::ApiKey => "api key",
            Authorization::Unreadable(_) => "unreadable",
        };
        f.debug_struct("Credentials")
            .field("authorization", &authorization)
            .field("apikey", &self.apikey.map(|_| "present"))
            .finish()
    }
}

/// The header value as text when it is visible ASCII, spaces and tabs (what the `http`
/// crate's `to_str` accepts).
fn visible_ascii(bytes: &[u8]) -> Option<&str> {
    // Block by block, with no early exit inside a block, so the compiler vectorises the
    // check: a byte-at-a-time loop over a 900-byte bearer token was about 4,700
    // instructions (`bench instr api`).
    let visible = bytes.chunks(64).all(|block| {
        block.iter().fold(true, |ok, &b| {
            ok & ((b == b'\t') | (b.wrapping_sub(0x20) < 0x5f))
        })
    });
    visible.then(|| std::str::from_utf8(bytes).ok()).flatten()
}

/// The one value as visible ASCII, trimmed; `None` when absent, sent twice or not
/// readable.
fn read_single<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Option<&'a str> {
    let mut values = values.into_iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    visible_ascii(value).map(str::trim)
}

fn read_authorization<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Authorization<'a> {
    let mut values = values.into_iter();
    let Some(bytes) = values.next() else {
        return Authorization::Absent;
    };
    let several = values.next().is_some();
    let is_bearer = bytes.len() >= 6
        && bytes[..6].eq_ignore_ascii_case(b"bearer")
        && bytes.get(6).is_none_or(|b| *b == b' ' || *b == b'\t');
    if !is_bearer {
        return if several {
            Authorization::Unreadable("more than one Authorization header")
        } else {
            Authorization::Absent
        };
    }
    if several {
        return Authorization::Unreadable("more than one Authorization header");
    }
    let Some(text) = visible_ascii(bytes) else {
        return Authorization::Unreadable("the bearer token is not visible ASCII");
    };
    // `to_str` accepts visible ASCII, space and tab.
    let token = text[6..].trim_matches([' ', '\t']);
    if token.is_empty() {
        Authorization::Absent
    // A byte search: `str::contains` with a char pattern decodes the token one
    // character at a time (8,500 instructions for a typical token, `bench instr api`).
    } else if memchr::memchr2(b' ', b'\t', token.as_bytes()).is_some() {
        Authorization::Unreadable("the bearer token contains spaces")
    } else if token.starts_with("sb_") {
        Authorization::ApiKey
    } else {
        Authorization::Bearer(token)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        map
    }

    fn authorization(values: &[&[u8]]) -> Authorization<'static> {
        let map = headers(
            &values
                .iter()
                .map(|v| ("authorization", *v))
                .collect::<Vec<_>>(),
        );
        // Leak for the test's 'static convenience: a few bytes per case.
        let map: &'static HeaderMap = Box::leak(Box::new(map));
        Credentials::from_headers(map).authorization
    }

    #[test]
    fn the_authorization_header_is_read_as_supabase_server_reads_it_and_rfc_9110_allows() {
        use Authorization::*;
        let cases: [(&[&[u8]], Authorization<'static>); 14] = [
            (&[], Absent),
            (&[b"Bearer abc.def.ghi"], Bearer("abc.def.ghi")),
            (&[b"bearer abc.def.ghi"], Bearer("abc.def.ghi")),
            (&[b"BEARER   abc.def.ghi  "], Bearer("abc.def.ghi")),
            (&[b"Bearer\tabc"], Bearer("abc")),
            (&[b"Bearer "], Absent),
            (&[b"Bearer"], Absent),
            (&[b"Basic dXNlcjpwYXNz"], Absent),
            (&[b"Bearerabc"], Absent),
            (&[b"Bearer sb_publishable_abc"], ApiKey),
            (&[b"Bearer sb_secret_abc"], ApiKey),
            (
                &[b"Bearer a b"],
                Unreadable("the bearer token contains spaces"),
            ),
            (
                &[b"Bearer a", b"Bearer b"],
                Unreadable("more than one Authorization header"),
            ),
            (
                &[b"Bearer \xc3\xa9"],
                Unreadable("the bearer token is not visible ASCII"),
            ),
        ];
        for (values, expected) in cases {
            assert!(authorization(values) == expected, "{values:?}");
        }
        assert!(
            authorization(&[b"Basic x", b"Basic y"])
                == Unreadable("more than one Authorization header")
        );
    }

    #[test]
    fn visible_ascii_accepts_what_http_to_str_accepts_at_every_position() {
        // Every byte value, alone and at each edge of the 64-byte blocks.
        for byte in 0..=u8::MAX {
            for at in [0, 1, 63, 64, 65, 127, 128, 199] {
                let mut value = vec![b'a'; 200];
                value[at] = byte;
                let expected = HeaderValue::from_bytes(&value)
                    .ok()
                    .and_then(|v| v.to_str().ok().map(str::to_owned));
                assert_eq!(
                    visible_ascii(&value).map(str::to_owned),
                    expected,
                    "byte {byte:#04x} at {at}"
                );
            }
        }
        assert_eq!(visible_ascii(b""), Some(""));
    }

    #[test]
    fn the_apikey_header_is_one_readable_value() {
        let read = |pairs: &[(&str, &[u8])]| {
            let map: &'static HeaderMap = Box::leak(Box::new(headers(pairs)));
            Credentials::from_headers(map).apikey()
        };
        assert_eq!(
            read(&[("apikey", b"sb_publishable_x")]),
            Some("sb_publishable_x")
        );
        assert_eq!(read(&[("apikey", b"")]), None);
        assert_eq!(read(&[]), None);
        assert_eq!(read(&[("apikey", b"a"), ("apikey", b"b")]), None);
        assert_eq!(read(&[("apikey", b"\xff")]), None);
    }

    #[test]
    fn debug_never_shows_values() {
        let map = headers(&[
            ("authorization", b"Bearer secret.token.here"),
            ("apikey", b"sb_secret_x"),
        ]);
        let text = format!("{:?}", Credentials::from_headers(&map));
        assert_eq!(
            text,
            r#"Credentials { authorization: "bearer token", apikey: Some("present") }"#
        );
    }
}
