//! `Cookie` request headers in, `Set-Cookie` header values out, with the rules of the
//! `cookie` npm package (1.x) that `@supabase/ssr` uses.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::ops::Range;

use super::encode::{decode_cookie_value, encode_uri_component};
use super::{Cookie, CookieOptions, SameSite, SetCookie};
use crate::session::array_index;

/// Parses a `Cookie` header as `@supabase/ssr`'s `parseCookieHeader` (`cookie.parse`)
/// does: pairs split on `;`, names and values trimmed of spaces and tabs, values
/// URI-decoded when they hold a `%` (kept raw when that fails), the first of a
/// duplicated name kept, fragments without `=` skipped, and (because the result is a JS
/// object) names that are array indices listed first in ascending order.
pub fn parse_cookie_header(header: &str) -> Vec<Cookie> {
    let mut out: Vec<Cookie> = Vec::new();
    // `cookie.parse` needs at least a one-character name and `=`.
    if header.len() < 2 {
        return out;
    }
    // Names seen so far, once there are many: a header of n cookies costs O(n) rather
    // than O(n²) (its size is the attacker's choice). A browser sends a few cookies,
    // and looking through those few is cheaper than any set.
    let mut seen: HashSet<&str> = HashSet::new();
    // `;` is ASCII, so every pair boundary is a character boundary.
    for (range, may_decode) in pairs(header.as_bytes()) {
        let (before, pair) = (&header[..range.start], &header[range]);
        let Some((name, value)) = pair.split_once('=') else {
            continue;
        };
        let name = trim_sp_tab(name);
        let duplicate = if out.len() < FEW_COOKIES {
            out.iter().any(|c| c.name == name)
        } else {
            if seen.is_empty() {
                seen.extend(names(before));
            }
            !seen.insert(name)
        };
        if duplicate {
            continue;
        }
        let value = trim_sp_tab(value);
        let value = if may_decode {
            decode_cookie_value(value)
        } else {
            value.to_owned()
        };
        out.push(Cookie::new(name, value));
    }
    if out.iter().any(|c| array_index(&c.name).is_some()) {
        // A stable sort keeps every other name in header order, after the indices.
        out.sort_by_key(|c| array_index(&c.name).map_or((1, 0), |i| (0, i)));
    }
    out
}

/// Up to this many cookies, duplicates are found by looking through the parsed list.
const FEW_COOKIES: usize = 16;

/// The `;`-separated pairs of a header, as byte ranges, each with whether it holds a `%`:
/// one pass over the header finds both.
fn pairs(header: &[u8]) -> impl Iterator<Item = (Range<usize>, bool)> + '_ {
    let mut start = 0;
    let mut percent = false;
    memchr::memchr2_iter(b';', b'%', header)
        .chain([header.len()])
        .filter_map(move |at| {
            if header.get(at) == Some(&b'%') {
                percent = true;
                return None;
            }
            let pair = start..at;
            start = at + 1;
            Some((pair, std::mem::replace(&mut percent, false)))
        })
}

/// The names of the pairs in `header`, trimmed.
fn names(header: &str) -> impl Iterator<Item = &str> {
    header
        .split(';')
        .filter_map(|pair| pair.split_once('=').map(|(name, _)| trim_sp_tab(name)))
}

/// Parses several `Cookie` header fields (HTTP/2 may split them) as one header, the way
/// Node.js joins them (`; `).
pub fn parse_cookie_headers<'a>(headers: impl IntoIterator<Item = &'a str>) -> Vec<Cookie> {
    let mut fields = headers.into_iter();
    let Some(first) = fields.next() else {
        return Vec::new();
    };
    match fields.next() {
        // One field, the usual case: no joined copy.
        None => parse_cookie_header(first),
        Some(second) => {
            let mut joined = [first, second].join("; ");
            for field in fields {
                joined.push_str("; ");
                joined.push_str(field);
            }
            parse_cookie_header(&joined)
        }
    }
}

/// Parses the `Cookie` header fields of a request as bytes, as
/// [`parse_cookie_headers`] does with text. A field that is not UTF-8 is read lossily
/// (`U+FFFD` for each bad sequence): it cannot hold a session cookie, which is ASCII.
///
/// ```
/// use supabase_ssr::adapter::codec::parse_cookie_fields;
/// use supabase_ssr::cookies::Cookie;
///
/// let cookies = parse_cookie_fields([&b"a=1; b=%41"[..], b"c=\xff"]);
/// assert_eq!(cookies, [Cookie::new("a", "1"), Cookie::new("b", "A"), Cookie::new("c", "\u{fffd}")]);
/// ```
pub fn parse_cookie_fields<'a>(fields: impl IntoIterator<Item = &'a [u8]>) -> Vec<Cookie> {
    fn text(field: &[u8]) -> Cow<'_, str> {
        // The SIMD check first: on valid text (every real request) it is many times
        // faster than the lossy conversion, or than the standard library's check.
        match simdutf8::basic::from_utf8(field) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(field),
        }
    }
    let mut fields = fields.into_iter();
    let Some(first) = fields.next() else {
        return Vec::new();
    };
    match fields.next() {
        None => parse_cookie_header(&text(first)),
        Some(second) => {
            let texts: Vec<Cow<'_, str>> = [first, second]
                .into_iter()
                .chain(fields)
                .map(text)
                .collect();
            parse_cookie_headers(texts.iter().map(AsRef::as_ref))
        }
    }
}

/// What reading one value straight from a `Cookie` header found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RawRead<'a> {
    /// The value of the first cookie named exactly `key`, which is the combined value
    /// (chunks are not looked at then), as the header holds it: not yet checked to be
    /// UTF-8. A caller that looks it up among values it read before can skip the check
    /// on a hit (see `CookieStorage::with_combined_or_known`); otherwise
    /// [`RawRead::text`] checks it.
    Unchunked(&'a [u8]),
    /// The value combined from chunks, exactly as the parsed cookie list would give it.
    Found(Cow<'a, str>),
    /// No value, exactly as the parsed cookie list would say.
    Absent,
    /// A cookie of interest needs decoding (a `%` escape, bytes that are not UTF-8):
    /// read the parsed list instead.
    NeedsParse,
}

impl<'a> RawRead<'a> {
    /// The value as text: an unchunked value that is not UTF-8 needs the parsed list
    /// (which reads it lossily), as a chunk that is not does.
    pub(crate) fn text(self) -> RawRead<'a> {
        match self {
            RawRead::Unchunked(value) => match simdutf8::basic::from_utf8(value) {
                Ok(text) => RawRead::Found(Cow::Borrowed(text)),
                Err(_) => RawRead::NeedsParse,
            },
            other => other,
        }
    }
}

/// The value of `key` (chunks combined, as [`super::combine_chunks`] does) read from one
/// `Cookie` header field without parsing it into a list: once [`RawRead::text`], the same
/// answer as `combine_chunks(key, parse_cookie_fields([header]), max_chunks)`, or
/// [`RawRead::NeedsParse`]. Only the pairs named like `key` are looked at; their values
/// are borrowed from the header.
pub(crate) fn combined_from_header<'a>(
    header: &'a [u8],
    key: &str,
    max_chunks: usize,
) -> RawRead<'a> {
    // `cookie.parse` needs at least a one-character name and `=`.
    if header.len() < 2 {
        return RawRead::Absent;
    }
    // The pairs named like `key`, in header order: a few, kept on the stack.
    let mut few: [(&[u8], &[u8]); 8] = [(&[], &[]); 8];
    let mut count = 0;
    let mut more: Vec<(&[u8], &[u8])> = Vec::new();
    for (range, escaped) in pairs(header) {
        let pair = &header[range];
        let Some(eq) = memchr::memchr(b'=', pair) else {
            continue;
        };
        let name = trim_sp_tab_bytes(&pair[..eq]);
        // Only `key` and `key.<index>` can be read (a name that is not valid UTF-8 reads
        // as one holding U+FFFD, never like these).
        let Some(rest) = name.strip_prefix(key.as_bytes()) else {
            continue;
        };
        if !(rest.is_empty() || rest.first() == Some(&b'.')) {
            continue;
        }
        if escaped {
            return RawRead::NeedsParse;
        }
        let value = trim_sp_tab_bytes(&pair[eq + 1..]);
        match few.get_mut(count) {
            Some(slot) => {
                *slot = (name, value);
                count += 1;
            }
            None => more.push((name, value)),
        }
    }
    let candidates = few[..count].iter().chain(&more).copied();
    // `combine_chunks` takes the first cookie named `key` when it has a value, and
    // looks at no chunk then.
    if let Some((_, value)) = candidates.clone().find(|(name, _)| *name == key.as_bytes())
        && !value.is_empty()
    {
        return if value.len() <= max_chunks.saturating_mul(super::chunk::MAX_CHUNK_SIZE) {
            RawRead::Unchunked(value)
        } else {
            RawRead::Absent
        };
    }
    let mut texts: Vec<(&str, &str)> = Vec::new();
    for (name, value) in candidates {
        let (Ok(name), Ok(value)) = (std::str::from_utf8(name), simdutf8::basic::from_utf8(value))
        else {
            return RawRead::NeedsParse;
        };
        texts.push((name, value));
    }
    super::combine_chunks(key, texts.iter().copied(), max_chunks)
        .map_or(RawRead::Absent, RawRead::Found)
}

/// `b` without leading and trailing spaces and tabs, as `cookie.parse` trims.
pub(crate) fn trim_sp_tab_bytes(b: &[u8]) -> &[u8] {
    &b[sp_tab_trimmed(b)]
}

fn trim_sp_tab(s: &str) -> &str {
    // Spaces and tabs are ASCII: the bounds are character boundaries.
    &s[sp_tab_trimmed(s.as_bytes())]
}

/// Where `b` is once leading and trailing spaces and tabs are cut, as `cookie.parse`
/// trims names and values.
fn sp_tab_trimmed(b: &[u8]) -> Range<usize> {
    let is_space = |c: &u8| *c == b' ' || *c == b'\t';
    let start = b.iter().position(|c| !is_space(c)).unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !is_space(c))
        .map_or(start, |i| i + 1);
    start..end
}

/// Joins cookies into one `Cookie` request header value (`a=1; b=2`), the way a browser
/// would send them. Values are written as stored; `@supabase/ssr` values need no escaping.
pub fn cookie_header_value<'a>(cookies: impl IntoIterator<Item = &'a Cookie>) -> String {
    let mut out = String::new();
    for c in cookies {
        if !out.is_empty() {
            out.push_str("; ");
        }
        out.push_str(&c.name);
        out.push('=');
        out.push_str(&c.value);
    }
    out
}

impl SetCookie {
    /// The `Set-Cookie` header value, byte for byte what `cookie.serialize` writes for the
    /// same name, value and options: the value is `encodeURIComponent`-ed, attributes in
    /// the order `Max-Age`, `Domain`, `Path`, `HttpOnly`, `Secure`, `SameSite`.
    pub fn to_header_value(&self) -> String {
        let mut s = String::with_capacity(self.name.len() + self.value.len() + 64);
        s.push_str(&self.name);
        s.push('=');
        s.push_str(&encode_uri_component(&self.value));
        write_attributes(&mut s, &self.options);
        s
    }
}

fn write_attributes(s: &mut String, o: &CookieOptions) {
    if let Some(max_age) = o.max_age {
        // Writing to a String cannot fail.
        let _ = write!(s, "; Max-Age={max_age}");
    }
    if let Some(domain) = o.domain.as_deref().filter(|d| !d.is_empty()) {
        s.push_str("; Domain=");
        s.push_str(domain);
    }
    if let Some(path) = o.path.as_deref().filter(|p| !p.is_empty()) {
        s.push_str("; Path=");
        s.push_str(path);
    }
    if o.http_only {
        s.push_str("; HttpOnly");
    }
    if o.secure {
        s.push_str("; Secure");
    }
    if let Some(same_site) = o.same_site {
        s.push_str(match same_site {
            SameSite::Strict => "; SameSite=Strict",
            SameSite::Lax => "; SameSite=Lax",
            SameSite::None => "; SameSite=None",
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_the_cookie_package() {
        let got = parse_cookie_header(" a=1; b = x%20y ;junk; a=2;c=%E2%82;d=\t");
        let want = vec![
            Cookie::new("a", "1"),
            Cookie::new("b", "x y"),
            Cookie::new("c", "%E2%82"),
            Cookie::new("d", ""),
        ];
        assert_eq!(got, want);
        assert_eq!(cookie_header_value(&want[..2]), "a=1; b=x y");
        assert_eq!(
            parse_cookie_header("b=1; 2=x; a=3; 1=y; 10=z"),
            vec![
                Cookie::new("1", "y"),
                Cookie::new("2", "x"),
                Cookie::new("10", "z"),
                Cookie::new("b", "1"),
                Cookie::new("a", "3"),
            ]
        );
        assert!(parse_cookie_header("=").is_empty());
        let split = parse_cookie_headers(["a=1; b=2", "a=9; c=3"]);
        assert_eq!(
            split,
            vec![
                Cookie::new("a", "1"),
                Cookie::new("b", "2"),
                Cookie::new("c", "3")
            ]
        );
    }

    #[test]
    fn many_cookies_and_duplicates_parse_in_linear_time() {
        // 100,000 distinct names then as many duplicates: quadratic work (10^10
        // comparisons) would take minutes here; linear work well under a second.
        let mut header: String = (0..100_000).map(|i| format!("c{i}=v; ")).collect();
        header.push_str(
            &(0..100_000)
                .map(|i| format!("c{i}=dup; "))
                .collect::<String>(),
        );
        let started = std::time::Instant::now();
        let cookies = parse_cookie_header(&header);
        assert_eq!(cookies.len(), 100_000);
        assert!(cookies.iter().all(|c| c.value == "v"));
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }

    /// The rules read plainly: split on `;`, first `=`, trim, first of a name wins,
    /// decode when the value holds `%`, array-index names first.
    fn parse_plainly(header: &str) -> Vec<Cookie> {
        let mut out: Vec<Cookie> = Vec::new();
        for pair in header.split(';') {
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let name = trim_sp_tab(name);
            if header.len() >= 2 && !out.iter().any(|c| c.name == name) {
                out.push(Cookie::new(name, decode_cookie_value(trim_sp_tab(value))));
            }
        }
        out.sort_by_key(|c| array_index(&c.name).map_or((1, 0), |i| (0, i)));
        out
    }

    proptest::proptest! {
        #[test]
        fn parses_as_the_plain_rules_do(
            pairs in proptest::collection::vec(
                ("[a-e0-2]{0,2}", "[ a%4;=1]{0,4}", proptest::bool::ANY),
                0..40,
            )
        ) {
            // Few distinct names over up to 40 pairs: duplicates on both sides of the
            // switch from the list to the set of seen names.
            let header: String = pairs
                .iter()
                .map(|(n, v, eq)| if *eq { format!("{n}={v}") } else { format!("{n}{v}") })
                .collect::<Vec<_>>()
                .join("; ");
            proptest::prop_assert_eq!(parse_cookie_header(&header), parse_plainly(&header));
        }
    }

    use proptest::prelude::*;

    proptest::proptest! {
        #[test]
        fn the_raw_header_read_agrees_with_the_parsed_list(
            pairs in proptest::collection::vec(
                (
                    prop_oneof![
                        Just("sb-x-auth-token".to_owned()),
                        (0u8..7).prop_map(|i| format!("sb-x-auth-token.{i}")),
                        Just(" sb-x-auth-token.0\t".to_owned()),
                        "[a-z.0-9-]{0,18}",
                    ],
                    prop_oneof![
                        "[ a-zA-Z0-9_=-]{0,12}",
                        "[a%2;=5\u{e9}]{0,6}",
                        Just(String::new()),
                    ],
                    0u8..4,
                ),
                0..12,
            ),
            max_chunks in 1usize..4,
        ) {
            // Now and then a byte that is not UTF-8, in any pair.
            let mut header: Vec<u8> = Vec::new();
            for (i, (name, value, kind)) in pairs.iter().enumerate() {
                if i > 0 {
                    header.extend_from_slice(b"; ");
                }
                header.extend_from_slice(name.as_bytes());
                if *kind != 1 {
                    header.push(b'=');
                }
                header.extend_from_slice(value.as_bytes());
                if *kind == 2 {
                    header.push(0xff);
                }
            }
            let parsed = parse_cookie_fields([&header[..]]);
            let expected = super::super::combine_chunks(
                "sb-x-auth-token",
                parsed.iter().map(|c| (c.name.as_str(), c.value.as_str())),
                max_chunks,
            )
            .map(|v| v.into_owned());
            let raw = combined_from_header(&header, "sb-x-auth-token", max_chunks);
            if let RawRead::Unchunked(value) = &raw {
                // Unchecked bytes: the parsed list's value when they are text.
                if let Ok(text) = std::str::from_utf8(value) {
                    prop_assert_eq!(Some(text), expected.as_deref());
                }
            }
            match raw.text() {
                RawRead::Found(value) => prop_assert_eq!(Some(value.into_owned()), expected),
                RawRead::Absent => prop_assert_eq!(None, expected),
                RawRead::Unchunked(_) => prop_assert!(false, "text() leaves no bytes unchecked"),
                // Only allowed when decoding could change a value.
                RawRead::NeedsParse => prop_assert!(
                    header.contains(&b'%') || std::str::from_utf8(&header).is_err()
                ),
            }
        }
    }

    #[test]
    fn the_raw_header_read_borrows_and_skips_other_cookies() {
        let header = b"theme=dark; sb-x-auth-token=base64-eyJ9; a=%zz";
        assert_eq!(
            combined_from_header(header, "sb-x-auth-token", 5),
            RawRead::Unchunked(b"base64-eyJ9")
        );
        assert_eq!(
            combined_from_header(header, "sb-x-auth-token", 5).text(),
            RawRead::Found(Cow::Borrowed("base64-eyJ9"))
        );
        // Bytes that are not UTF-8 come back unchecked; as text they need the list.
        let bad = b"sb-x-auth-token=a\xffb";
        assert_eq!(
            combined_from_header(bad, "sb-x-auth-token", 5),
            RawRead::Unchunked(b"a\xffb")
        );
        assert_eq!(
            combined_from_header(bad, "sb-x-auth-token", 5).text(),
            RawRead::NeedsParse
        );
        let chunks = b"sb-x-auth-token.1=B; sb-x-auth-token.0=A; sb-x-auth-token.0=C";
        assert_eq!(
            combined_from_header(chunks, "sb-x-auth-token", 5),
            RawRead::Found(Cow::Owned("AB".to_owned()))
        );
        assert_eq!(
            combined_from_header(b"a=1", "sb-x-auth-token", 5),
            RawRead::Absent
        );
        assert_eq!(
            combined_from_header(b"sb-x-auth-token=%41", "sb-x-auth-token", 5),
            RawRead::NeedsParse
        );
    }

    #[test]
    fn serializes_like_the_cookie_package() {
        let set = SetCookie {
            name: "sb-x-auth-token".into(),
            value: "base64-eyJh".into(),
            options: CookieOptions::default_set(),
        };
        assert_eq!(
            set.to_header_value(),
            "sb-x-auth-token=base64-eyJh; Max-Age=34560000; Path=/; SameSite=Lax"
        );
        let del = SetCookie {
            name: "sb-x-auth-token".into(),
            value: String::new(),
            options: CookieOptions {
                domain: Some(".example.com".into()),
                secure: true,
                max_age: Some(0),
                ..CookieOptions::default_set()
            },
        };
        assert_eq!(
            del.to_header_value(),
            "sb-x-auth-token=; Max-Age=0; Domain=.example.com; Path=/; Secure; SameSite=Lax"
        );
        let raw = SetCookie {
            name: "k".into(),
            value: "{\"a\":1}".into(),
            options: CookieOptions {
                http_only: true,
                same_site: Some(SameSite::Strict),
                ..CookieOptions::default_set()
            },
        };
        assert_eq!(
            raw.to_header_value(),
            "k=%7B%22a%22%3A1%7D; Max-Age=34560000; Path=/; HttpOnly; SameSite=Strict"
        );
    }
}
