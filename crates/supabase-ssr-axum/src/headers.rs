//! The two header edits of the proxy: the request's `Cookie` header after the layer's
//! writes, and the response's `Set-Cookie` and cache headers.

use std::collections::HashMap;

use http::header::{COOKIE, HeaderName, SET_COOKIE};
use http::{HeaderMap, HeaderValue};
use supabase_ssr::cookies::{CACHE_HEADERS, SetCookie, encode_uri_component};

/// Replaces every `Cookie` field of `headers` with one field: the request's cookies with
/// `writes` applied as the browser will apply them, so handlers downstream see the
/// refreshed session. The header is removed when no cookie is left.
///
/// Cookies that were not written keep their bytes exactly (the core's parsed view
/// decodes values, and joining decoded values could change or split them); a written
/// cookie is sent as the browser will send it next time, `name=encodeURIComponent(value)`.
pub(crate) fn rewrite_request_cookies<'a>(
    headers: &mut HeaderMap,
    writes: impl IntoIterator<Item = &'a SetCookie>,
) {
    let mut pairs: Vec<Option<Vec<u8>>> = headers
        .get_all(COOKIE)
        .iter()
        .flat_map(|field| field.as_bytes().split(|b| *b == b';'))
        .map(trim_sp_tab)
        .filter(|pair| !pair.is_empty())
        .map(|pair| Some(pair.to_vec()))
        .collect();
    // Positions of each name, so every write is O(1) however many cookies were sent.
    let mut positions: HashMap<Vec<u8>, Vec<usize>> = HashMap::new();
    for (i, pair) in pairs.iter().enumerate() {
        if let Some(name) = pair.as_deref().and_then(pair_name) {
            positions.entry(name.to_vec()).or_default().push(i);
        }
    }
    for write in writes {
        let name = write.name.as_bytes();
        if write.options.is_removal() {
            for i in positions.remove(name).unwrap_or_default() {
                pairs[i] = None;
            }
            continue;
        }
        let mut pair = Vec::with_capacity(name.len() + 1 + write.value.len());
        pair.extend_from_slice(name);
        pair.push(b'=');
        pair.extend_from_slice(encode_uri_component(&write.value).as_bytes());
        match positions.get(name).and_then(|at| at.first()) {
            Some(&first) => pairs[first] = Some(pair),
            None => {
                positions.insert(name.to_vec(), vec![pairs.len()]);
                pairs.push(Some(pair));
            }
        }
    }
    let pairs: Vec<Vec<u8>> = pairs.into_iter().flatten().collect();
    if pairs.is_empty() {
        headers.remove(COOKIE);
        return;
    }
    let joined = pairs.join(&b"; "[..]);
    match HeaderValue::from_bytes(&joined) {
        Ok(value) => {
            headers.insert(COOKIE, value);
        }
        Err(_) => tracing::warn!(
            "supabase-ssr-axum: the refreshed Cookie request header is not a valid header \
             value (check the configured cookie name); handlers see the original cookies"
        ),
    }
}

/// The name of a `name=value` pair, trimmed as the `cookie` package trims it; `None`
/// for a fragment without `=`.
fn pair_name(pair: &[u8]) -> Option<&[u8]> {
    let eq = pair.iter().position(|b| *b == b'=')?;
    Some(trim_sp_tab(&pair[..eq]))
}

fn trim_sp_tab(bytes: &[u8]) -> &[u8] {
    let is_space = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes
        .iter()
        .position(|b| !is_space(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// Adds the written cookies to a response: one `Set-Cookie` per written cookie
/// (appended, after anything the handler set), and, when anything was written, the
/// cache headers, which replace the handler's.
pub(crate) fn write_response_headers(writes: &[SetCookie], headers: &mut HeaderMap) {
    if writes.is_empty() {
        return;
    }
    let lines: Vec<String> = writes.iter().map(SetCookie::to_header_value).collect();
    append_set_cookies(headers, &lines);
    // `insert`: a response carrying a session must not be cached, whatever the handler
    // said.
    for (name, value) in CACHE_HEADERS {
        let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value))
        else {
            continue;
        };
        headers.insert(name, value);
    }
}

/// Appends `lines` as `Set-Cookie` headers, unless the response already carries them.
///
/// Lines are grouped per cookie (name, `Domain`, `Path`); since a browser keeps the last
/// line of each, a group is left out only when the response already holds all its lines
/// and ends that cookie on the same line, so leaving it out changes nothing the browser
/// ends up with. Otherwise the whole group is appended in order.
pub(crate) fn append_set_cookies(headers: &mut HeaderMap, lines: &[String]) {
    // Lines grouped per cookie, in hash maps: linear in the number of lines, however many
    // cookies a request made the client delete.
    let mut theirs: HashMap<CookieKey, Vec<&[u8]>> = HashMap::new();
    for v in headers.get_all(SET_COOKIE) {
        theirs
            .entry(CookieKey::of(v.as_bytes()))
            .or_default()
            .push(v.as_bytes());
    }
    let keys: Vec<CookieKey> = lines.iter().map(|l| CookieKey::of(l.as_bytes())).collect();
    let mut ours: HashMap<&CookieKey, Vec<&[u8]>> = HashMap::new();
    for (key, line) in keys.iter().zip(lines) {
        ours.entry(key).or_default().push(line.as_bytes());
    }
    let mut skip: HashMap<&CookieKey, bool> = HashMap::new();
    for (key, ours) in &ours {
        let mut theirs = theirs.get(*key).cloned().unwrap_or_default();
        let same_last = theirs.last().is_some() && theirs.last() == ours.last();
        let all_present = ours
            .iter()
            .all(|l| match theirs.iter().position(|t| t == l) {
                Some(i) => {
                    theirs.swap_remove(i);
                    true
                }
                None => false,
            });
        skip.insert(*key, same_last && all_present);
    }
    let owned: Vec<HeaderValue> = lines
        .iter()
        .zip(&keys)
        .filter(|(_, key)| !skip.get(key).copied().unwrap_or(false))
        .map(|(line, _)| line)
        .filter_map(|line| match HeaderValue::from_bytes(line.as_bytes()) {
            Ok(value) => Some(value),
            Err(_) => {
                tracing::warn!(
                    cookie = %String::from_utf8_lossy(pair_name(line.as_bytes()).unwrap_or_default()),
                    "supabase-ssr-axum: a Set-Cookie line is not a valid header value; \
                     it was left out (check the configured cookie domain and path)"
                );
                None
            }
        })
        .collect();
    for value in owned {
        headers.append(SET_COOKIE, value);
    }
}

/// What a browser keys a cookie by: its name, `Domain` (lowercase, leading dot dropped)
/// and `Path`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct CookieKey {
    name: Vec<u8>,
    domain: Option<Vec<u8>>,
    path: Option<Vec<u8>>,
}

impl CookieKey {
    fn of(line: &[u8]) -> Self {
        let mut parts = line.split(|b| *b == b';');
        let first = parts.next().unwrap_or_default();
        let name = pair_name(first).unwrap_or_default().to_vec();
        let mut key = Self {
            name,
            domain: None,
            path: None,
        };
        for attribute in parts {
            let attribute = trim_sp_tab(attribute);
            let Some(eq) = attribute.iter().position(|b| *b == b'=') else {
                continue;
            };
            let (attr, value) = (
                trim_sp_tab(&attribute[..eq]),
                trim_sp_tab(&attribute[eq + 1..]),
            );
            if attr.eq_ignore_ascii_case(b"domain") {
                let value = value.strip_prefix(b".").unwrap_or(value);
                key.domain = Some(value.to_ascii_lowercase());
            } else if attr.eq_ignore_ascii_case(b"path") {
                key.path = Some(value.to_vec());
            }
        }
        key
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use http::header::{CACHE_CONTROL, EXPIRES, PRAGMA};
    use supabase_ssr::cookies::CookieOptions;

    fn set(name: &str, value: &str) -> SetCookie {
        SetCookie {
            name: name.into(),
            value: value.into(),
            options: CookieOptions::default_set(),
        }
    }

    fn remove(name: &str) -> SetCookie {
        let mut options = CookieOptions::default_set();
        options.max_age = Some(0);
        SetCookie {
            name: name.into(),
            value: String::new(),
            options,
        }
    }

    fn cookie_headers(fields: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for f in fields {
            headers.append(COOKIE, HeaderValue::from_str(f).unwrap());
        }
        headers
    }

    fn cookie_values(headers: &HeaderMap) -> Vec<&str> {
        headers
            .get_all(COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect()
    }

    #[test]
    fn rewrite_merges_fields_and_keeps_other_cookies_byte_for_byte() {
        let mut headers = cookie_headers(&["a=x%3By; sb-k-auth-token=base64-old", " b=2 ;;junk"]);
        rewrite_request_cookies(&mut headers, &[set("sb-k-auth-token", "base64-new")]);
        assert_eq!(
            cookie_values(&headers),
            ["a=x%3By; sb-k-auth-token=base64-new; b=2; junk"]
        );
    }

    #[test]
    fn rewrite_applies_writes_in_order_and_encodes_new_values() {
        let mut headers = cookie_headers(&["sb-k-auth-token.0=p0; sb-k-auth-token.1=p1; t=1"]);
        rewrite_request_cookies(
            &mut headers,
            &[
                remove("sb-k-auth-token.0"),
                remove("sb-k-auth-token.1"),
                set("sb-k-auth-token", "{\"a\": 1}"),
            ],
        );
        assert_eq!(
            cookie_values(&headers),
            ["t=1; sb-k-auth-token=%7B%22a%22%3A%201%7D"]
        );
    }

    #[test]
    fn rewrite_removes_the_header_when_nothing_is_left() {
        let mut headers = cookie_headers(&["sb-k-auth-token=x", "sb-k-auth-token=y"]);
        rewrite_request_cookies(&mut headers, &[remove("sb-k-auth-token")]);
        assert!(headers.get(COOKIE).is_none());
    }

    #[test]
    fn rewrite_keeps_the_original_when_the_result_is_not_a_header_value() {
        let mut headers = cookie_headers(&["a=1"]);
        rewrite_request_cookies(&mut headers, &[set("bad\nname", "v")]);
        assert_eq!(cookie_values(&headers), ["a=1"]);
    }

    fn set_cookies(headers: &HeaderMap) -> Vec<&str> {
        headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect()
    }

    #[test]
    fn set_cookie_lines_are_appended_after_the_handlers() {
        let mut headers = HeaderMap::new();
        headers.append(SET_COOKIE, HeaderValue::from_static("theme=dark; Path=/"));
        append_set_cookies(
            &mut headers,
            &["a=1; Path=/".into(), "b=; Max-Age=0".into()],
        );
        assert_eq!(
            set_cookies(&headers),
            ["theme=dark; Path=/", "a=1; Path=/", "b=; Max-Age=0"]
        );
    }

    #[test]
    fn lines_already_in_the_response_are_not_repeated() {
        let mut headers = HeaderMap::new();
        headers.append(SET_COOKIE, HeaderValue::from_static("a=1; Path=/"));
        append_set_cookies(&mut headers, &["a=1; Path=/".into(), "b=2; Path=/".into()]);
        assert_eq!(set_cookies(&headers), ["a=1; Path=/", "b=2; Path=/"]);
    }

    #[test]
    fn a_group_is_repeated_when_leaving_it_out_would_change_the_final_cookie() {
        // The handler set `a=1` first; the jar then deleted and set it again. Leaving out
        // the jar's `a=1` would end the response on the deletion.
        let mut headers = HeaderMap::new();
        headers.append(SET_COOKIE, HeaderValue::from_static("a=1; Path=/"));
        let lines = ["a=; Max-Age=0; Path=/".to_owned(), "a=1; Path=/".to_owned()];
        append_set_cookies(&mut headers, &lines);
        assert_eq!(
            set_cookies(&headers),
            ["a=1; Path=/", "a=; Max-Age=0; Path=/", "a=1; Path=/"]
        );
        // Same name, another domain: a different cookie, so both are kept.
        let mut headers = HeaderMap::new();
        headers.append(
            SET_COOKIE,
            HeaderValue::from_static("a=; Max-Age=0; Path=/"),
        );
        let lines = [
            "a=; Max-Age=0; Path=/".to_owned(),
            "a=; Max-Age=0; Domain=.Example.com; Path=/".to_owned(),
        ];
        append_set_cookies(&mut headers, &lines);
        assert_eq!(
            set_cookies(&headers),
            [
                "a=; Max-Age=0; Path=/",
                "a=; Max-Age=0; Domain=.Example.com; Path=/"
            ]
        );
    }

    #[test]
    fn invalid_lines_are_skipped() {
        let mut headers = HeaderMap::new();
        append_set_cookies(
            &mut headers,
            &["a=1; Domain=bad\ndomain".into(), "b=2".into()],
        );
        assert_eq!(set_cookies(&headers), ["b=2"]);
    }

    #[test]
    fn cache_headers_only_after_writes_and_they_replace_the_handlers() {
        let mut headers = HeaderMap::new();
        headers.insert(
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=60"),
        );
        write_response_headers(&[], &mut headers);
        assert_eq!(headers.len(), 1);

        write_response_headers(&[set("a", "1")], &mut headers);
        assert_eq!(
            headers.get_all(CACHE_CONTROL).iter().collect::<Vec<_>>(),
            ["private, no-cache, no-store, must-revalidate, max-age=0"]
        );
        assert_eq!(headers[EXPIRES], "0");
        assert_eq!(headers[PRAGMA], "no-cache");
        assert_eq!(
            set_cookies(&headers),
            ["a=1; Max-Age=34560000; Path=/; SameSite=Lax"]
        );
    }
}
