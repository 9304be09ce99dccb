//! The request-scoped view over `get_all`/`set_all`: cookies are read once, every
//! write is applied to the view as well as handed to `set_all`, so reads later in the
//! same request see earlier writes (`@supabase/ssr`: "getAll sees the changes created
//! by setAll").

use std::sync::{Arc, Mutex, MutexGuard};

use crate::AuthError;
use crate::session::User;

use crate::cookies::{
    CACHE_HEADERS, Cookie, CookieConfig, CookieMethods, RawRead, apply_writes, combine_chunks,
    combined_from_header, decode_value, plan_writes,
};

/// `M` is the cookie methods, kept in the same allocation as the state (one allocation
/// per request, `ProxyRequest` included); the client sees it as `dyn CookieMethods`.
pub(crate) struct CookieStorage<M: ?Sized = dyn CookieMethods> {
    config: Arc<CookieConfig>,
    state: Mutex<State>,
    methods: M,
}

#[derive(Default)]
struct State {
    /// `None` until the first write, or the first read the raw `Cookie` header could
    /// not answer (see `with_combined`).
    view: Option<Vec<Cookie>>,
    headers_sent: bool,
    /// The failure of this request's refresh, if one failed: one request never tries
    /// twice, however many extractors or calls ask for the session.
    failed_refresh: Option<AuthError>,
    /// This request refreshed the session already (a session shorter-lived than the
    /// refresh margin would otherwise be refreshed again by every later call).
    refreshed: bool,
    /// With tokens-only cookies, the user this request got from the Auth server: what
    /// `@supabase/ssr` keeps in its per-client memory `userStorage`.
    split_user: Option<Arc<User>>,
}

impl<M> CookieStorage<M> {
    pub(crate) fn new(methods: M, config: Arc<CookieConfig>) -> Self {
        Self {
            config,
            state: Mutex::new(State::default()),
            methods,
        }
    }
}

impl<M: ?Sized> CookieStorage<M> {
    /// The cookie methods.
    pub(crate) fn methods(&self) -> &M {
        &self.methods
    }
}

impl CookieStorage {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is valid after any panic elsewhere (it is only replaced whole), so a
        // poisoned lock is used as is.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The failure of this request's earlier refresh, if one failed.
    pub(crate) fn failed_refresh(&self) -> Option<AuthError> {
        self.lock().failed_refresh.clone()
    }

    /// Remembers that this request's refresh failed.
    pub(crate) fn remember_failed_refresh(&self, error: &AuthError) {
        self.lock().failed_refresh = Some(error.clone());
    }

    /// Whether this request refreshed the session already.
    pub(crate) fn refreshed(&self) -> bool {
        self.lock().refreshed
    }

    /// Remembers that this request refreshed the session.
    pub(crate) fn remember_refreshed(&self) {
        self.lock().refreshed = true;
    }

    /// The user kept apart from tokens-only cookies in this request, if any.
    pub(crate) fn split_user(&self) -> Option<Arc<User>> {
        self.lock().split_user.clone()
    }

    /// Keeps (`Some`) or forgets (`None`) the user of tokens-only cookies.
    pub(crate) fn set_split_user(&self, user: Option<Arc<User>>) {
        self.lock().split_user = user;
    }

    /// The view, read with `get_all` on first use.
    fn view<'a>(&self, guard: &'a mut MutexGuard<'_, State>) -> &'a mut Vec<Cookie> {
        guard.view.get_or_insert_with(|| self.methods.get_all())
    }

    /// The stored value of `key` (chunks combined, `base64-` decoded and checked to be
    /// JSON), or `None`.
    pub(crate) fn get_item(&self, key: &str) -> Option<String> {
        self.with_combined(key, decode_value).flatten()
    }

    /// `read` of the cookie value of `key` (chunks combined, not decoded), or `None`
    /// when there is none. `read` runs under the view's lock, so it must not use this
    /// storage.
    ///
    /// Until something is written, the value is read straight from the request's
    /// `Cookie` header when the cookie methods offer it (borrowed, no cookie list
    /// built); otherwise, and whenever that reading needs decoding, from the view.
    pub(crate) fn with_combined<R>(&self, key: &str, read: impl FnOnce(&str) -> R) -> Option<R> {
        self.with_combined_or_known(key, |_| None, read)
    }

    /// [`Self::with_combined`], with `known` asked first, once, with the value's bytes:
    /// what it answers is the answer, and `read` is not called. An unchunked value read
    /// straight from the header is offered before its UTF-8 check, which a value `known`
    /// recognises (one read before, say) has passed already (`bench instr proxy`: about
    /// 840 instructions for a 2.8 KB cookie).
    pub(crate) fn with_combined_or_known<R>(
        &self,
        key: &str,
        known: impl FnOnce(&[u8]) -> Option<R>,
        read: impl FnOnce(&str) -> R,
    ) -> Option<R> {
        let mut guard = self.lock();
        let mut known = Some(known);
        if guard.view.is_none()
            && let Some(header) = self.methods.raw_cookie_header()
        {
            let raw = combined_from_header(header, key, self.config.max_chunks);
            if let RawRead::Unchunked(value) = raw
                && let Some(hit) = known.take().and_then(|known| known(value))
            {
                return Some(hit);
            }
            match raw.text() {
                RawRead::Found(value) => return Some(known_or_read(known, read, &value)),
                RawRead::Absent => return None,
                RawRead::NeedsParse | RawRead::Unchunked(_) => {}
            }
        }
        let view = self.view(&mut guard);
        let combined = combine_chunks(
            key,
            view.iter().map(|c| (c.name.as_str(), c.value.as_str())),
            self.config.max_chunks,
        )?;
        Some(known_or_read(known, read, &combined))
    }

    /// Writes `sets` and deletes `removes` with one `set_all` call (none when nothing
    /// changes). A failing `set_all` is logged; the view keeps the writes so the rest
    /// of the request sees them.
    pub(crate) fn apply(&self, sets: &[(&str, &str)], removes: &[&str]) {
        let (plan, send_headers) = {
            let mut guard = self.lock();
            let view = self.view(&mut guard);
            let plan = plan_writes(view, sets, removes, &self.config);
            if plan.is_empty() {
                return;
            }
            apply_writes(view, &plan);
            let send_headers = !guard.headers_sent;
            guard.headers_sent = true;
            (plan, send_headers)
        };
        let headers: &[(&'static str, &'static str)] =
            if send_headers { &CACHE_HEADERS } else { &[] };
        if let Err(error) = self.methods.set_all(&plan, headers) {
            tracing::warn!(
                %error,
                cookies = plan.len(),
                "supabase-ssr: set_all failed; the session will be refreshed again by the next request through the proxy"
            );
        }
    }
}

/// What `known` answers for `value` (when it has not been asked yet), else `read` of it.
fn known_or_read<R>(
    known: Option<impl FnOnce(&[u8]) -> Option<R>>,
    read: impl FnOnce(&str) -> R,
    value: &str,
) -> R {
    known
        .and_then(|known| known(value.as_bytes()))
        .unwrap_or_else(|| read(value))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::cookies::{CookieJar, decode_base64_value, to_base64_value};
    use crate::session::{Stored, UnverifiedSession};
    use proptest::prelude::*;

    const K: &str = "sb-x-auth-token";

    fn storage(cookies: Vec<Cookie>) -> (Arc<CookieJar>, Arc<CookieStorage>) {
        let jar = Arc::new(CookieJar::new(cookies));
        let storage = Arc::new(CookieStorage::new(
            jar.clone(),
            Arc::new(CookieConfig::default()),
        ));
        (jar, storage)
    }

    #[test]
    fn reads_see_earlier_writes_and_headers_go_once() {
        let (jar, storage) = storage(vec![Cookie::new("theme", "dark")]);
        assert_eq!(storage.get_item(K), None);
        storage.apply(&[(K, "{\"a\":1}")], &[]);
        assert_eq!(storage.get_item(K).as_deref(), Some("{\"a\":1}"));
        storage.apply(&[(K, "{\"a\":1}")], &[]);
        storage.apply(&[(K, "{\"a\":2}")], &[]);
        storage.apply(&[], &[K]);
        assert_eq!(storage.get_item(K), None);
        let calls = jar.set_all_calls();
        assert_eq!(calls.len(), 3, "the unchanged write is skipped");
        assert_eq!(calls[0].headers.len(), 3);
        assert!(calls[1].headers.is_empty() && calls[2].headers.is_empty());
        assert_eq!(calls[1].cookies[0].value, to_base64_value("{\"a\":2}"));
        assert_eq!(jar.cookie_header(), "theme=dark");
    }

    /// Cookie methods over one raw header that count `get_all` calls.
    struct Raw {
        header: &'static str,
        get_all_calls: std::sync::atomic::AtomicUsize,
        jar: CookieJar,
    }

    impl CookieMethods for Raw {
        fn get_all(&self) -> Vec<Cookie> {
            self.get_all_calls
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            crate::cookies::header::parse_cookie_header(self.header)
        }
        fn set_all(
            &self,
            cookies: &[crate::cookies::SetCookie],
            headers: &[(&'static str, &'static str)],
        ) -> Result<(), crate::cookies::SetAllError> {
            self.jar.set_all(cookies, headers)
        }
        fn raw_cookie_header(&self) -> Option<&[u8]> {
            Some(self.header.as_bytes())
        }
    }

    fn raw(header: &'static str) -> (Arc<Raw>, Arc<CookieStorage>) {
        let methods = Arc::new(Raw {
            header,
            get_all_calls: 0.into(),
            jar: CookieJar::default(),
        });
        let storage = Arc::new(CookieStorage::new(
            methods.clone(),
            Arc::new(CookieConfig::default()),
        ));
        (methods, storage)
    }

    fn get_all_calls(raw: &Raw) -> usize {
        raw.get_all_calls.load(std::sync::atomic::Ordering::Relaxed)
    }

    #[test]
    fn reads_come_from_the_raw_header_until_something_is_written() {
        let (methods, storage) =
            raw("theme=dark; sb-x-auth-token.0=base64-e3; sb-x-auth-token.1=0%3D");
        // The second chunk holds an escape: the list is needed for this key, once.
        assert_eq!(
            storage.get_item(K).as_deref(),
            Some("{}"),
            "base64-e30= decoded"
        );
        assert_eq!(get_all_calls(&methods), 1);

        let (methods, storage) = raw("theme=dark; sb-x-auth-token=base64-eyJhIjoxfQ");
        assert_eq!(storage.get_item(K).as_deref(), Some("{\"a\":1}"));
        assert_eq!(storage.get_item("sb-x-auth-token-code-verifier"), None);
        assert_eq!(
            get_all_calls(&methods),
            0,
            "read from the header, no list built"
        );
        storage.apply(&[(K, "{\"a\":2}")], &[]);
        assert_eq!(get_all_calls(&methods), 1, "a write needs the list, once");
        assert_eq!(storage.get_item(K).as_deref(), Some("{\"a\":2}"));
        assert_eq!(get_all_calls(&methods), 1);
    }

    #[test]
    fn known_values_are_asked_first_and_once_then_read() {
        use std::cell::RefCell;
        // What `known` was asked, and what `read` got; `known` recognises `hit`.
        let ask = |storage: &CookieStorage, hit: &[u8]| {
            let (asked, read) = (RefCell::new(Vec::new()), RefCell::new(Vec::new()));
            let answer = storage.with_combined_or_known(
                K,
                |value| {
                    asked.borrow_mut().push(value.to_vec());
                    (value == hit).then(|| "known".to_owned())
                },
                |value| {
                    read.borrow_mut().push(value.to_owned());
                    "read".to_owned()
                },
            );
            (answer, asked.into_inner(), read.into_inner())
        };
        let v = b"base64-eyJhIjoxfQ".to_vec();
        let (methods, storage) = raw("theme=dark; sb-x-auth-token=base64-eyJhIjoxfQ");
        // Straight from the header: a known value is not read.
        assert_eq!(
            ask(&storage, &v),
            (Some("known".into()), vec![v.clone()], vec![])
        );
        // An unknown one is asked about once, then read.
        assert_eq!(
            ask(&storage, b"other"),
            (
                Some("read".into()),
                vec![v.clone()],
                vec![String::from_utf8(v).unwrap()]
            )
        );
        assert_eq!(get_all_calls(&methods), 0, "no list built");
        // Chunks: the combined value is asked about, then read.
        let (_, chunked) = raw("sb-x-auth-token.0=base64-e3; sb-x-auth-token.1=0");
        assert_eq!(
            ask(&chunked, b"other"),
            (
                Some("read".into()),
                vec![b"base64-e30".to_vec()],
                vec!["base64-e30".into()]
            )
        );
        // After a write, the view's value.
        storage.apply(&[(K, "{\"a\":2}")], &[]);
        let written = to_base64_value("{\"a\":2}");
        assert_eq!(
            ask(&storage, written.as_bytes()),
            (
                Some("known".into()),
                vec![written.clone().into_bytes()],
                vec![]
            )
        );
        // No value: neither is called.
        assert_eq!(ask(&raw("theme=dark").1, b"x"), (None, vec![], vec![]));
    }

    proptest! {
        #[test]
        fn any_get_all_input_reads_without_panicking(
            pairs in prop::collection::vec((
                prop_oneof![Just(K.to_owned()), (0u8..7).prop_map(|i| format!("{K}.{i}")), ".*"],
                prop_oneof![".*", "base64-[A-Za-z0-9_=-]{0,40}", Just("base64-e30".to_owned())],
            ), 0..16)
        ) {
            let (_jar, storage) = storage(pairs.into_iter().map(|(n, v)| Cookie::new(n, v)).collect());
            // The property is the absence of a panic, whatever the browser sent; and a
            // value that is JSON is never read as "unreadable".
            if let Some(value) = storage.with_combined(K, decode_base64_value).flatten() {
                let is_json = serde_json::from_str::<serde::de::IgnoredAny>(&value).is_ok();
                let read = UnverifiedSession::from_stored_json(&value);
                prop_assert!(!(is_json && matches!(read, Stored::Unreadable)));
            }
        }
    }
}
