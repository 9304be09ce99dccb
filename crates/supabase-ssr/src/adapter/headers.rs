//! The two header edits of a proxy, over bytes: the request's `Cookie` header after the
//! client's writes, and the response's `Set-Cookie` lines and cache headers.

use std::collections::HashMap;

use crate::cookies::{CACHE_HEADERS, SetCookie, encode_uri_component, trim_sp_tab_bytes};

/// What to do with a request's `Cookie` header once the client has written cookies:
/// the answer of [`edit_cookie_header`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CookieHeaderEdit {
    /// Leave the header as it is: nothing was written, or the result would not be a valid
    /// header value (logged).
    Keep,
    /// Remove every `Cookie` field: no cookie is left.
    Remove,
    /// Replace every `Cookie` field with this one value (a valid header field value).
    Replace(Vec<u8>),
}

/// The request's `Cookie` header after `writes`, applied as the browser will apply them,
/// so that handlers downstream see the refreshed session. `fields` are the request's
/// `Cookie` header fields in order (HTTP/2 may split the header into several).
///
/// Cookies that were not written keep their bytes exactly (joining decoded values could
/// change or split them); a written cookie is sent as the browser will send it next time,
/// `name=encodeURIComponent(value)`; a deleted one is left out; the result is one field,
/// the pairs joined with `"; "` as a browser joins them.
///
/// ```
/// use supabase_ssr::adapter::{CookieHeaderEdit, edit_cookie_header};
/// use supabase_ssr::cookies::{CookieOptions, SetCookie};
///
/// let write = SetCookie {
///     name: "sb-k-auth-token".into(),
///     value: "base64-new".into(),
///     options: CookieOptions::default_set(),
/// };
/// let fields: [&[u8]; 2] = [b"a=x%3By; sb-k-auth-token=base64-old", b" b=2"];
/// assert_eq!(
///     edit_cookie_header(fields, &[write]),
///     CookieHeaderEdit::Replace(b"a=x%3By; sb-k-auth-token=base64-new; b=2".to_vec())
/// );
/// ```
pub fn edit_cookie_header<'a>(
    fields: impl IntoIterator<Item = &'a [u8]>,
    writes: &[SetCookie],
) -> CookieHeaderEdit {
    if writes.is_empty() {
        return CookieHeaderEdit::Keep;
    }
    let mut pairs: Vec<Option<Vec<u8>>> = fields
        .into_iter()
        .flat_map(|field| field.split(|b| *b == b';'))
        .map(trim_sp_tab_bytes)
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
        return CookieHeaderEdit::Remove;
    }
    let joined = pairs.join(&b"; "[..]);
    if !is_field_value(&joined) {
        tracing::warn!(
            "supabase-ssr: the refreshed Cookie request header is not a valid header value \
             (check the configured cookie name); handlers see the original cookies"
        );
        return CookieHeaderEdit::Keep;
    }
    CookieHeaderEdit::Replace(joined)
}

/// What a proxy adds to a response: the answer of [`response_headers`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResponseHeaders {
    set_cookie: Vec<String>,
    cache: bool,
}

impl ResponseHeaders {
    /// The `Set-Cookie` lines to append, in order, after those the response already has.
    /// Each is a valid header field value.
    pub fn set_cookie(&self) -> &[String] {
        &self.set_cookie
    }

    /// The cache headers to set, replacing the response's own (a response carrying a
    /// session must not be cached, whatever the handler said): [`CACHE_HEADERS`] when any
    /// cookie was written, none otherwise.
    pub fn cache_headers(&self) -> &'static [(&'static str, &'static str)] {
        if self.cache { &CACHE_HEADERS } else { &[] }
    }

    /// The `Set-Cookie` lines, by value.
    pub fn into_set_cookie(self) -> Vec<String> {
        self.set_cookie
    }

    /// Whether there is nothing to add.
    pub fn is_empty(&self) -> bool {
        !self.cache && self.set_cookie.is_empty()
    }
}

/// The headers to add to a response for `writes`: one `Set-Cookie` line per written
/// cookie, and, when anything was written, the cache headers. `existing_set_cookie` are
/// the `Set-Cookie` lines the response already carries (the handler's).
///
/// Lines are grouped per cookie (name, `Domain`, `Path`); since a browser keeps the last
/// line of each, a group is left out only when the response already holds all its lines
/// and ends that cookie on the same line, so leaving it out changes nothing the browser
/// ends up with. Otherwise the whole group is appended in order. A line that is not a
/// valid header value (a cookie domain with a newline, say) is left out and logged.
///
/// ```
/// use supabase_ssr::adapter::response_headers;
/// use supabase_ssr::cookies::{CookieOptions, SetCookie};
///
/// let write = SetCookie { name: "a".into(), value: "1".into(), options: CookieOptions::default_set() };
/// let theirs: [&[u8]; 1] = [b"theme=dark; Path=/"];
/// let add = response_headers(theirs, &[write]);
/// assert_eq!(add.set_cookie(), ["a=1; Max-Age=34560000; Path=/; SameSite=Lax"]);
/// assert_eq!(add.cache_headers()[0].0, "Cache-Control");
/// ```
pub fn response_headers<'a>(
    existing_set_cookie: impl IntoIterator<Item = &'a [u8]>,
    writes: &[SetCookie],
) -> ResponseHeaders {
    if writes.is_empty() {
        return ResponseHeaders::default();
    }
    let lines: Vec<String> = writes.iter().map(SetCookie::to_header_value).collect();
    // Lines grouped per cookie, in hash maps: linear in the number of lines, however many
    // cookies a request made the client delete.
    let mut theirs: HashMap<CookieKey, Vec<&[u8]>> = HashMap::new();
    for line in existing_set_cookie {
        theirs.entry(CookieKey::parse(line)).or_default().push(line);
    }
    let keys: Vec<CookieKey> = writes.iter().map(CookieKey::of_write).collect();
    let mut ours: HashMap<&CookieKey, Vec<&[u8]>> = HashMap::new();
    for (key, line) in keys.iter().zip(&lines) {
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
    let set_cookie = lines
        .into_iter()
        .zip(&keys)
        .filter(|(_, key)| !skip.get(key).copied().unwrap_or(false))
        .filter_map(|(line, key)| {
            if is_field_value(line.as_bytes()) {
                return Some(line);
            }
            tracing::warn!(
                cookie = %String::from_utf8_lossy(&key.name),
                "supabase-ssr: a Set-Cookie line is not a valid header value; it was left \
                 out (check the configured cookie domain and path)"
            );
            None
        })
        .collect();
    ResponseHeaders {
        set_cookie,
        cache: true,
    }
}

/// Whether `bytes` can be a header field value: what the `http` crate (0.2 and 1)
/// accepts, visible bytes, spaces and tabs.
fn is_field_value(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .all(|&b| (b >= 0x20 && b != 0x7f) || b == b'\t')
}

/// The name of a `name=value` pair, trimmed as the `cookie` package trims it; `None`
/// for a fragment without `=`.
fn pair_name(pair: &[u8]) -> Option<&[u8]> {
    let eq = pair.iter().position(|b| *b == b'=')?;
    Some(trim_sp_tab_bytes(&pair[..eq]))
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
    fn domain(value: &[u8]) -> Vec<u8> {
        value
            .strip_prefix(b".")
            .unwrap_or(value)
            .to_ascii_lowercase()
    }

    /// The key of a cookie the client wrote, from its options.
    fn of_write(write: &SetCookie) -> Self {
        Self {
            name: write.name.as_bytes().to_vec(),
            domain: write
                .options
                .domain
                .as_deref()
                .map(|d| Self::domain(d.as_bytes())),
            path: write.options.path.as_deref().map(|p| p.as_bytes().to_vec()),
        }
    }

    /// The key of a `Set-Cookie` line someone else wrote.
    fn parse(line: &[u8]) -> Self {
        let mut parts = line.split(|b| *b == b';');
        let first = parts.next().unwrap_or_default();
        let name = pair_name(first).unwrap_or_default().to_vec();
        let mut key = Self {
            name,
            domain: None,
            path: None,
        };
        for attribute in parts {
            let attribute = trim_sp_tab_bytes(attribute);
            let Some(eq) = attribute.iter().position(|b| *b == b'=') else {
                continue;
            };
            let (attr, value) = (
                trim_sp_tab_bytes(&attribute[..eq]),
                trim_sp_tab_bytes(&attribute[eq + 1..]),
            );
            if attr.eq_ignore_ascii_case(b"domain") {
                key.domain = Some(Self::domain(value));
            } else if attr.eq_ignore_ascii_case(b"path") {
                key.path = Some(value.to_vec());
            }
        }
        key
    }
}

#[cfg(test)]
mod tests;
