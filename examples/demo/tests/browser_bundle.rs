//! The committed browser client bundle (`static/supabase-browser.js`): the demo serves it
//! as committed, and it is byte for byte what `interop/js/browser/build.mjs` makes from
//! the pinned packages, so it cannot drift from `interop/js/package-lock.json`.
//!
//! The rebuild needs Node and `npm ci` in `interop/js` (the test command runs it).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use demo::DemoConfig;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, SET_COOKIE};

const BUILD_TIMEOUT: Duration = Duration::from_secs(120);
const REBUILD: &str = "cd interop/js && npm ci && npm run build:browser";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn committed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("static/supabase-browser.js")
}

#[tokio::test]
async fn the_demo_serves_the_committed_bundle() {
    let app = demo::run(DemoConfig::emulator().port(0).database(demo::Database::Off))
        .await
        .unwrap();
    assert_eq!(app.browser_bundle_error(), None);
    let client = reqwest::Client::new();

    let page = client
        .get(format!("{}/browser-client", app.url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"<script type="module" src="/static/supabase-browser.js"></script>"#),
        "{page}"
    );
    assert!(page.contains("Loading the browser client…"), "{page}");

    let res = client
        .get(format!("{}/static/supabase-browser.js", app.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()[CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert!(res.headers().get(SET_COOKIE).is_none());
    let served = res.bytes().await.unwrap();
    assert!(
        served == std::fs::read(committed()).unwrap(),
        "/static/supabase-browser.js is not the committed file"
    );
    app.shutdown().await;
}

#[test]
fn the_committed_bundle_names_the_pinned_packages() {
    let bundle = std::fs::read_to_string(committed()).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(workspace().join("interop/js/package.json")).unwrap(),
    )
    .unwrap();
    for name in ["@supabase/ssr", "@supabase/supabase-js"] {
        let version = manifest["dependencies"][name].as_str().unwrap();
        let line = format!("\n *   {name} {version} (MIT)\n");
        assert!(
            bundle.contains(&line),
            "the bundle's header lacks {line:?}: rebuild it with `{REBUILD}`"
        );
    }
}

#[tokio::test]
async fn the_committed_bundle_is_a_fresh_build_of_the_pinned_packages() {
    let js = workspace().join("interop/js");
    assert!(
        js.join("node_modules/esbuild").is_dir() && js.join("node_modules/@supabase/ssr").is_dir(),
        "interop/js/node_modules lacks esbuild or @supabase/ssr: run `npm ci` in interop/js"
    );
    let dir = workspace().join("target/test-output");
    std::fs::create_dir_all(&dir).unwrap();
    // Per process: other test runs may share the target directory.
    let fresh = dir.join(format!("supabase-browser.{}.js", std::process::id()));

    let mut command = tokio::process::Command::new("node");
    command
        .arg("browser/build.mjs")
        .arg(&fresh)
        .current_dir(&js)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(BUILD_TIMEOUT, command.output())
        .await
        .unwrap_or_else(|_| panic!("build.mjs took over {BUILD_TIMEOUT:?}"))
        .expect("cannot run node (Node.js 20 or newer is required)");
    assert!(
        output.status.success(),
        "build.mjs failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    let built = std::fs::read(&fresh).unwrap();
    let kept = std::fs::read(committed()).unwrap();
    if built == kept {
        std::fs::remove_file(&fresh).unwrap();
        return;
    }
    let first_difference = built
        .iter()
        .zip(&kept)
        .position(|(a, b)| a != b)
        .unwrap_or(built.len().min(kept.len()));
    panic!(
        "examples/demo/static/supabase-browser.js ({} bytes) is not what the pinned packages \
         build ({} bytes, kept at {}); they first differ at byte {first_difference}. \
         After changing interop/js/package.json, package-lock.json or browser/, rebuild it: {REBUILD}",
        kept.len(),
        built.len(),
        fresh.display(),
    );
}
