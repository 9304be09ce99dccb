//! Static files, compiled in: the stylesheet and the browser client bundle.
//!
//! The bundle (`static/supabase-browser.js`) is committed, built from the pinned packages
//! of `interop/js` by `interop/js/browser/build.mjs`, so the demo needs no Node to serve
//! it; `tests/browser_bundle.rs` rebuilds it and requires the same bytes.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const CSS: &str = include_str!("../static/demo.css");

/// The committed bundle; `None` when it was missing at build time (see `build.rs`).
#[cfg(not(browser_bundle_missing))]
const BROWSER_BUNDLE: Option<&str> = Some(include_str!("../static/supabase-browser.js"));
#[cfg(browser_bundle_missing)]
const BROWSER_BUNDLE: Option<&str> = None;

/// Why `/browser-client` cannot work without it, and how to get it back.
const BUNDLE_MISSING: &str = "examples/demo/static/supabase-browser.js was missing \
     when the demo was built; restore it (git checkout -- examples/demo/static/supabase-browser.js) \
     or rebuild it (cd interop/js && npm ci && npm run build:browser), then restart the demo";

/// Why `/browser-client` cannot work in this build; `None` when the bundle is compiled in.
pub(crate) fn bundle_missing() -> Option<&'static str> {
    match BROWSER_BUNDLE {
        Some(_) => None,
        None => Some(BUNDLE_MISSING),
    }
}

/// `GET /static/demo.css`.
pub(crate) async fn stylesheet() -> Response {
    static_file("text/css; charset=utf-8", CSS)
}

/// `GET /static/supabase-browser.js`.
pub(crate) async fn browser_bundle() -> Response {
    match BROWSER_BUNDLE {
        Some(js) => static_file("text/javascript; charset=utf-8", js),
        None => (
            StatusCode::NOT_FOUND,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            )],
            format!("{BUNDLE_MISSING}\n"),
        )
            .into_response(),
    }
}

fn static_file(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}
