//! Drives the emulator with the official `@supabase/supabase-js` client (pinned in
//! `interop/js/package.json`): runs `interop/js/emulator/*.test.mjs` with node's
//! test runner against an in-process emulator.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The reuse interval the JS suite waits out (kept short so the suite is fast).
const REUSE_INTERVAL: Duration = Duration::from_secs(2);

fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop/js")
}

/// `node --version` as a major number, or a clear failure when node is missing.
fn node_major() -> u32 {
    let out = Command::new("node").arg("--version").output().unwrap_or_else(|e| {
        panic!(
            "`node` is not on PATH ({e}). The supabase-js interop suite needs Node.js 20 or newer: \
             install it (e.g. `apt-get install nodejs npm`) and re-run `cargo test -p supabase-auth-emulator`."
        )
    });
    let version = String::from_utf8_lossy(&out.stdout);
    version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0)
}

fn ensure_node_modules(dir: &Path) {
    if dir
        .join("node_modules/@supabase/supabase-js/package.json")
        .exists()
    {
        return;
    }
    let status = Command::new("npm")
        .arg("ci")
        .arg("--no-audit")
        .arg("--no-fund")
        .current_dir(dir)
        .status();
    match status {
        Ok(s) if s.success() => {}
        other => panic!("`npm ci` in {} failed: {other:?}", dir.display()),
    }
}

fn test_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("emulator"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".test.mjs"))
        })
        .collect();
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_supabase_js_client_against_the_emulator() {
    let major = node_major();
    let dir = js_dir();
    ensure_node_modules(&dir);
    let files = test_files(&dir);
    assert!(!files.is_empty(), "no interop/js/emulator/*.test.mjs files");

    let emu = support::config()
        .refresh_token_reuse_interval(REUSE_INTERVAL)
        .start()
        .await
        .unwrap();
    support::assert_on_the_chosen_store(&emu);
    // Emulators with one non-default setting each, for the files that need one; each
    // URL goes to node as `EMULATOR_<NAME>_URL`. The keys are the same everywhere.
    let variants = [
        ("CONFIRMATIONS", support::config().autoconfirm(false)),
        (
            "SECURE_CHANGE_OFF",
            support::config().secure_email_change(false),
        ),
        (
            // Tokens outlive a day, so a session can be older than GoTrue's 24 h window.
            "SECURE_PASSWORD",
            support::config()
                .secure_password_change(true)
                .jwt_exp(Duration::from_secs(3 * 24 * 60 * 60)),
        ),
    ];
    let mut extra = Vec::new();
    for (name, cfg) in variants {
        let variant = cfg.start().await.unwrap();
        assert_eq!(variant.publishable_key(), emu.publishable_key());
        assert_eq!(variant.secret_key(), emu.secret_key());
        extra.push((name, variant));
    }
    let mut cmd = Command::new("node");
    if major < 22 {
        // supabase-js always builds a Realtime client, which needs a global WebSocket.
        cmd.arg("--experimental-websocket");
    }
    cmd.arg("--test")
        .args(&files)
        .current_dir(&dir)
        .env("EMULATOR_URL", emu.url())
        .env("EMULATOR_PUBLISHABLE_KEY", emu.publishable_key())
        .env("EMULATOR_SECRET_KEY", emu.secret_key())
        .env("EMULATOR_ANON_KEY", emu.anon_key())
        .env("EMULATOR_SERVICE_ROLE_KEY", emu.service_role_key())
        .env(
            "EMULATOR_REUSE_INTERVAL_MS",
            REUSE_INTERVAL.as_millis().to_string(),
        );
    for (name, variant) in &extra {
        cmd.env(format!("EMULATOR_{name}_URL"), variant.url());
    }
    let output = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "node --test failed ({}):\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        output.status
    );

    // The server saw the official client's headers.
    let requests = emu.requests();
    let token_call = requests
        .iter()
        .find(|r| r.path == "/auth/v1/token")
        .unwrap();
    assert_eq!(
        token_call.header("x-supabase-api-version"),
        Some("2024-01-01")
    );
    assert!(
        token_call
            .header("x-client-info")
            .unwrap_or("")
            .starts_with("supabase-js")
    );
    emu.shutdown().await;
    for (_, variant) in extra {
        variant.shutdown().await;
    }
}
