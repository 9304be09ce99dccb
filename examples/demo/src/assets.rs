//! Static files: the stylesheet (compiled in) and the bundled browser client (built
//! with Node and esbuild from `interop/js/browser`, never committed).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::state::Shared;

const CSS: &str = include_str!("../static/demo.css");

/// How to build the bundle by hand, shown on the page when it is missing.
pub(crate) const BUILD_HINT: &str = "cd interop/js && npm ci && node browser/build.mjs";

const BUILD_TIMEOUT: Duration = Duration::from_secs(120);

/// `GET /static/demo.css`.
pub(crate) async fn stylesheet() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        CSS,
    )
        .into_response()
}

/// `GET /static/supabase-browser.js`: read from disk on each request, so a rebuild
/// shows without a restart.
pub(crate) async fn browser_bundle(State(app): State<Shared>) -> Response {
    match tokio::fs::read(&app.browser_bundle).await {
        Ok(bytes) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/javascript; charset=utf-8"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => (
            StatusCode::NOT_FOUND,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            )],
            format!("The browser bundle is not built. Run: {BUILD_HINT}\n"),
        )
            .into_response(),
    }
}

/// Whether the bundle exists.
pub(crate) fn bundle_ready(path: &Path) -> bool {
    path.is_file()
}

/// Builds the browser bundle when it is missing or older than its sources. Returns
/// why it could not be built; the demo then runs without it.
pub(crate) async fn ensure_browser_bundle(out: &Path) -> Result<(), String> {
    let js = crate::config::interop_js_dir();
    let sources = [
        js.join("browser").join("client-entry.mjs"),
        js.join("browser").join("build.mjs"),
        js.join("package-lock.json"),
    ];
    if is_fresh(out, &sources) {
        return Ok(());
    }
    if !js.join("node_modules").join("esbuild").is_dir()
        || !js
            .join("node_modules")
            .join("@supabase")
            .join("ssr")
            .is_dir()
    {
        return Err(format!(
            "interop/js/node_modules lacks esbuild or @supabase/ssr; run: {BUILD_HINT}"
        ));
    }
    let mut command = tokio::process::Command::new("node");
    command
        .arg(js.join("browser").join("build.mjs"))
        .arg(out)
        .current_dir(&js)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let output = match tokio::time::timeout(BUILD_TIMEOUT, command.output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => return Err(format!("cannot run node ({e}); run: {BUILD_HINT}")),
        Err(_) => return Err(format!("esbuild took over {BUILD_TIMEOUT:?}")),
    };
    if output.status.success() && out.is_file() {
        Ok(())
    } else {
        Err(format!(
            "esbuild failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// The output exists and is newer than every source that exists.
fn is_fresh(out: &Path, sources: &[PathBuf]) -> bool {
    let Some(built) = modified(out) else {
        return false;
    };
    sources
        .iter()
        .filter_map(|s| modified(s))
        .all(|source| source <= built)
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}
