//! The request-scoped view over `get_all`/`set_all`: cookies are read once, every
//! write is applied to the view as well as handed to `set_all`, so reads later in the
//! same request see earlier writes (`@supabase/ssr`: "getAll sees the changes created
//! by setAll").

use std::sync::{Arc, Mutex, MutexGuard};

use crate::cookies::{
    CACHE_HEADERS, Cookie, CookieConfig, CookieMethods, apply_writes, combine_chunks, decode_value,
    plan_writes,
};

pub(crate) struct CookieStorage {
    methods: Arc<dyn CookieMethods>,
    config: Arc<CookieConfig>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// `None` until the first read.
    view: Option<Vec<Cookie>>,
    headers_sent: bool,
}

impl CookieStorage {
    pub(crate) fn new(methods: Arc<dyn CookieMethods>, config: Arc<CookieConfig>) -> Self {
        Self {
            methods,
            config,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is valid after any panic elsewhere (it is only replaced whole), so a
        // poisoned lock is used as is.
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if guard.view.is_none() {
            guard.view = Some(self.methods.get_all());
        }
        guard
    }

    /// The stored value of `key` (chunks combined, `base64-` decoded), or `None`.
    pub(crate) fn get_item(&self, key: &str) -> Option<String> {
        let guard = self.lock();
        let view = guard.view.as_deref().unwrap_or_default();
        let combined = combine_chunks(
            key,
            view.iter().map(|c| (c.name.as_str(), c.value.as_str())),
            self.config.max_chunks,
        )?;
        decode_value(&combined)
    }

    /// Writes `sets` and deletes `removes` with one `set_all` call (none when nothing
    /// changes). A failing `set_all` is logged; the view keeps the writes so the rest
    /// of the request sees them.
    pub(crate) fn apply(&self, sets: &[(&str, &str)], removes: &[&str]) {
        let (plan, send_headers) = {
            let mut guard = self.lock();
            let view = guard.view.get_or_insert_with(Vec::new);
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
