//! `Cookie` request headers in, `Set-Cookie` header values out, with the rules of the
//! `cookie` npm package (1.x) that `@supabase/ssr` uses.

use std::collections::HashSet;
use std::fmt::Write as _;

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
    // Names seen so far, so a header of n cookies costs O(n) rather than O(n²): the
    // header comes from the browser, and its size is the attacker's choice.
    let mut seen: HashSet<&str> = HashSet::new();
    for pair in header.split(';') {
        let Some((name, value)) = pair.split_once('=') else {
            continue;
        };
        let name = trim_sp_tab(name);
        if !seen.insert(name) {
            continue;
        }
        let value = trim_sp_tab(value);
        out.push(Cookie::new(name, decode_cookie_value(value)));
    }
    if out.iter().any(|c| array_index(&c.name).is_some()) {
        // A stable sort keeps every other name in header order, after the indices.
        out.sort_by_key(|c| array_index(&c.name).map_or((1, 0), |i| (0, i)));
    }
    out
}

/// Parses several `Cookie` header fields (HTTP/2 may split them) as one header, the way
/// Node.js joins them (`; `).
pub fn parse_cookie_headers<'a>(headers: impl IntoIterator<Item = &'a str>) -> Vec<Cookie> {
    let fields: Vec<&str> = headers.into_iter().collect();
    match fields.as_slice() {
        // One field, the usual case: no joined copy.
        [one] => parse_cookie_header(one),
        _ => parse_cookie_header(&fields.join("; ")),
    }
}

fn trim_sp_tab(s: &str) -> &str {
    s.trim_matches(|c| c == ' ' || c == '\t')
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
