//! The demo in headless Chromium: `interop/js/browser/demo.mjs` (playwright-core) signs
//! up, confirms through the inbox, signs in, finds the profile the sign-up trigger made
//! on the account page, waits past the access token's expiry and checks the refresh
//! token rotated, reads the session with the official browser client, signs in with a
//! magic link and with OAuth, writes a note that a second user
//! does not see and nobody signed out sees, sets up an authenticator app (TOTP codes
//! computed in Node) to reach the `aal2`-only `/security`, passes the code prompt after
//! signing in again, and signs out.
//!
//! Needs `/usr/bin/chromium` (`scripts/install-system-deps.sh`) and `npm ci` in
//! `interop/js`. Screenshots land in `target/test-output/screenshots/`.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use demo::DemoConfig;
use tokio::io::{AsyncRead, AsyncReadExt};

const CHROMIUM: &str = "/usr/bin/chromium";
const TOKEN_LIFETIME: Duration = Duration::from_secs(4);
const NODE_TIMEOUT: Duration = Duration::from_secs(240);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn collect(mut pipe: impl AsyncRead + Unpin + Send + 'static) -> tokio::task::JoinHandle<String> {
    tokio::spawn(async move {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes).await;
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_works_in_a_real_browser() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: install Debian's chromium and chromium-driver \
         (bash scripts/install-system-deps.sh) before running this test"
    );
    let js = workspace().join("interop/js");
    assert!(
        js.join("node_modules/playwright-core").is_dir(),
        "interop/js/node_modules lacks playwright-core: run `npm ci` in interop/js"
    );

    let app = demo::run(
        DemoConfig::emulator()
            .port(0)
            .jwt_exp(TOKEN_LIFETIME)
            // Refresh only once the token is nearly gone, so waiting past the expiry is
            // what makes the server refresh.
            .refresh_margin(Duration::from_secs(1)),
    )
    .await
    .unwrap();
    assert_eq!(
        app.browser_bundle_error(),
        None,
        "the demo was built without its browser client bundle"
    );
    let emulator_url = app.emulator().unwrap().url();
    let (demo_email, demo_password) = app.demo_user().unwrap();
    assert!(
        app.database_url().is_some(),
        "the notes need PostgreSQL: {}",
        app.database_summary()
    );
    let screenshots = workspace().join("target/test-output/screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();

    let mut child = tokio::process::Command::new("node")
        .arg("browser/demo.mjs")
        .current_dir(&js)
        .env("DEMO_URL", app.url())
        .env("EMULATOR_URL", &emulator_url)
        .env("SESSION_COOKIE", app.session_cookie_name())
        .env("DEMO_USER_EMAIL", demo_email)
        .env("DEMO_USER_PASSWORD", demo_password)
        .env("TOKEN_LIFETIME_SECS", TOKEN_LIFETIME.as_secs().to_string())
        .env("SCREENSHOT_DIR", &screenshots)
        .env("CHROMIUM", CHROMIUM)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("cannot start node (Node.js 20 or newer is required)");
    let stdout = collect(child.stdout.take().unwrap());
    let stderr = collect(child.stderr.take().unwrap());

    let status = match tokio::time::timeout(NODE_TIMEOUT, child.wait()).await {
        Ok(status) => Some(status.unwrap()),
        Err(_) => {
            // Our own child only; Chromium exits when its controlling pipe closes.
            let _ = child.kill().await;
            None
        }
    };
    let out = stdout.await.unwrap_or_default();
    let err = stderr.await.unwrap_or_default();
    app.shutdown().await;

    println!("--- demo.mjs stdout ---\n{out}\n--- demo.mjs stderr ---\n{err}");
    match status {
        Some(s) => assert!(
            s.success(),
            "demo.mjs failed ({s}); screenshots in {}\n--- stdout ---\n{out}\n--- stderr ---\n{err}",
            screenshots.display()
        ),
        None => panic!(
            "demo.mjs did not finish within {NODE_TIMEOUT:?} and was killed\n--- stdout ---\n{out}\n--- stderr ---\n{err}"
        ),
    }
    assert!(
        out.contains("steps passed"),
        "demo.mjs did not report success:\n{out}"
    );
}
