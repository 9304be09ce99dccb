//! An in-memory [`CookieMethods`] for servers without a framework adapter, for tests,
//! and as the building block of framework adapters.

use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard};

use super::header::{cookie_header_value, parse_cookie_headers};
use super::{Cookie, CookieMethods, SetAllError, SetCookie};

/// One `set_all` call as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAllCall {
    /// The cookies written.
    pub cookies: Vec<SetCookie>,
    /// The headers handed along (the cache headers on a client's first write).
    pub headers: Vec<(String, String)>,
}

/// Request cookies in, written cookies out.
///
/// `get_all` returns the request's cookies with every write applied (a deletion drops
/// the name, a set replaces or appends), which is what a proxy hands downstream.
/// Every `set_all` call is recorded, so the response can be given one `Set-Cookie`
/// per written cookie and the cache headers.
///
/// ```
/// use std::sync::Arc;
/// use supabase_ssr::cookies::CookieJar;
///
/// let jar = Arc::new(CookieJar::from_cookie_header("theme=dark; sb-abc-auth-token=base64-e30"));
/// assert_eq!(jar.cookies().len(), 2);
/// assert!(jar.set_cookie_headers().is_empty());
/// ```
#[derive(Debug, Default)]
pub struct CookieJar {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    cookies: Vec<Cookie>,
    calls: Vec<SetAllCall>,
}

impl CookieJar {
    /// A jar holding `cookies`.
    pub fn new(cookies: Vec<Cookie>) -> Self {
        Self {
            state: Mutex::new(State {
                cookies,
                calls: Vec::new(),
            }),
        }
    }

    /// A jar holding the cookies of a `Cookie` header.
    pub fn from_cookie_header(header: &str) -> Self {
        Self::new(parse_cookie_headers([header]))
    }

    /// A jar holding the cookies of several `Cookie` header fields.
    pub fn from_cookie_headers<'a>(headers: impl IntoIterator<Item = &'a str>) -> Self {
        Self::new(parse_cookie_headers(headers))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update leaves the state whole, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cookies now: the request's with every write applied.
    pub fn cookies(&self) -> Vec<Cookie> {
        self.lock().cookies.clone()
    }

    /// The cookies now, as one `Cookie` request header value.
    pub fn cookie_header(&self) -> String {
        cookie_header_value(&self.lock().cookies)
    }

    /// Every `set_all` call so far.
    pub fn set_all_calls(&self) -> Vec<SetAllCall> {
        self.lock().calls.clone()
    }

    /// `true` once anything was written.
    pub fn has_writes(&self) -> bool {
        self.lock().calls.iter().any(|c| !c.cookies.is_empty())
    }

    /// One `Set-Cookie` header value per cookie written, in order.
    pub fn set_cookie_headers(&self) -> Vec<String> {
        self.lock()
            .calls
            .iter()
            .flat_map(|c| c.cookies.iter().map(SetCookie::to_header_value))
            .collect()
    }

    /// The headers handed to `set_all` (the cache headers), first value of each name.
    pub fn response_headers(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for call in &self.lock().calls {
            for (k, v) in &call.headers {
                if !out.iter().any(|(n, _)| n.eq_ignore_ascii_case(k)) {
                    out.push((k.clone(), v.clone()));
                }
            }
        }
        out
    }
}

impl CookieMethods for CookieJar {
    fn get_all(&self) -> Vec<Cookie> {
        self.cookies()
    }

    fn set_all(
        &self,
        cookies: &[SetCookie],
        headers: &[(&'static str, &'static str)],
    ) -> Result<(), SetAllError> {
        let mut state = self.lock();
        apply_writes(&mut state.cookies, cookies);
        state.calls.push(SetAllCall {
            cookies: cookies.to_vec(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        });
        Ok(())
    }
}

/// Applies written cookies to a cookie list as a browser would: a deletion drops every
/// cookie of that name, a set replaces the first of that name or appends.
///
/// A run of deletions is applied in one pass: signing out over n chunk-like cookies
/// deletes n cookies, and must not cost n passes over them.
pub(crate) fn apply_writes(cookies: &mut Vec<Cookie>, writes: &[SetCookie]) {
    let mut deleted: HashSet<&str> = HashSet::new();
    for c in writes {
        if c.options.is_removal() {
            deleted.insert(c.name.as_str());
            continue;
        }
        if !deleted.is_empty() {
            cookies.retain(|v| !deleted.contains(v.name.as_str()));
            deleted.clear();
        }
        if let Some(existing) = cookies.iter_mut().find(|v| v.name == c.name) {
            existing.value.clone_from(&c.value);
        } else {
            cookies.push(Cookie::new(c.name.clone(), c.value.clone()));
        }
    }
    if !deleted.is_empty() {
        cookies.retain(|v| !deleted.contains(v.name.as_str()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cookies::CookieConfig;

    fn set(name: &str, value: &str) -> SetCookie {
        SetCookie {
            name: name.into(),
            value: value.into(),
            options: CookieConfig::default().set_options(),
        }
    }

    fn delete(name: &str) -> SetCookie {
        SetCookie {
            name: name.into(),
            value: String::new(),
            options: CookieConfig::default().remove_options(),
        }
    }

    #[test]
    fn writes_apply_in_order() {
        let mut cookies = vec![
            Cookie::new("a", "1"),
            Cookie::new("b", "2"),
            Cookie::new("a", "3"),
        ];
        apply_writes(
            &mut cookies,
            &[delete("a"), set("a", "new"), delete("b"), set("c", "4")],
        );
        assert_eq!(
            cookies,
            vec![Cookie::new("a", "new"), Cookie::new("c", "4")]
        );
        apply_writes(&mut cookies, &[set("a", "x"), delete("a")]);
        assert_eq!(cookies, vec![Cookie::new("c", "4")]);
    }

    #[test]
    fn many_deletions_take_one_pass() {
        let mut cookies: Vec<Cookie> = (0..100_000)
            .map(|i| Cookie::new(format!("k.{i}"), "x"))
            .collect();
        let writes: Vec<SetCookie> = (0..100_000).map(|i| delete(&format!("k.{i}"))).collect();
        let started = std::time::Instant::now();
        apply_writes(&mut cookies, &writes);
        assert!(cookies.is_empty());
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }
}
