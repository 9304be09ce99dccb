//! Running node scripts from `interop/js`: finding node, installing the pinned packages
//! on a fresh clone, and exchanging JSON with the harness.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// `interop/js` in the workspace.
pub(crate) fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop/js")
}

struct Node {
    /// Extra flags for `node` (Node < 22 has no global WebSocket without a flag, and
    /// supabase-js always builds a Realtime client).
    flags: Vec<&'static str>,
}

fn node() -> &'static Node {
    static NODE: OnceLock<Node> = OnceLock::new();
    NODE.get_or_init(|| {
        let out = Command::new("node")
            .arg("--version")
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "the interop tests need Node.js >= 20 on PATH (`node` could not be run: {e}); \
                 install it, e.g. from https://nodejs.org"
                )
            });
        let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let major: u32 = version
            .trim_start_matches('v')
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or_else(|| panic!("unexpected `node --version` output: {version:?}"));
        assert!(
            major >= 20,
            "the interop tests need Node.js >= 20, found {version}"
        );
        ensure_node_modules();
        Node {
            flags: if major < 22 {
                vec!["--experimental-websocket"]
            } else {
                vec![]
            },
        }
    })
}

/// The pinned version of `name` in `interop/js/package.json`.
fn pinned_version(name: &str) -> String {
    let text =
        std::fs::read_to_string(js_dir().join("package.json")).expect("interop/js/package.json");
    let pkg: Value = serde_json::from_str(&text).expect("interop/js/package.json is JSON");
    pkg["dependencies"][name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} is not pinned in interop/js/package.json"))
        .to_owned()
}

fn installed_version(name: &str) -> Option<String> {
    let path = js_dir()
        .join("node_modules")
        .join(name)
        .join("package.json");
    let pkg: Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    pkg["version"].as_str().map(str::to_owned)
}

/// The pinned packages are installed, at their exact versions when pinned exactly.
fn node_modules_ready() -> bool {
    ["@supabase/ssr", "@supabase/supabase-js"]
        .iter()
        .all(|name| {
            let pinned = pinned_version(name);
            match installed_version(name) {
                None => false,
                Some(v) => !pinned.starts_with(|c: char| c.is_ascii_digit()) || v == pinned,
            }
        })
}

/// Runs `npm ci` in `interop/js` when the pinned packages are not installed (a fresh
/// clone). A lock directory keeps concurrent test processes from installing twice.
fn ensure_node_modules() {
    if node_modules_ready() {
        return;
    }
    let dir = js_dir();
    let lock = Path::new(env!("CARGO_TARGET_TMPDIR")).join("interop-npm-ci.lock");
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if std::fs::create_dir(&lock).is_ok() {
            break;
        }
        if node_modules_ready() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "another process holds {} for too long; remove it if no install is running",
            lock.display()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    let result = Command::new(npm)
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir)
        .output();
    let _ = std::fs::remove_dir(&lock);
    let out =
        result.unwrap_or_else(|e| panic!("`npm ci` could not be run in {}: {e}", dir.display()));
    assert!(
        out.status.success(),
        "`npm ci` failed in {}:\n{}\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        node_modules_ready(),
        "`npm ci` did not install the pinned packages"
    );
}

/// Runs a node script (path relative to `interop/js`) with `input` as JSON on stdin and
/// returns its stdout parsed as JSON. Panics with the script's stderr on failure; its
/// stderr (library warnings) is otherwise printed, which the test harness captures.
pub(crate) fn run_node_script(script: &str, input: &Value) -> Value {
    let node = node();
    let dir = js_dir();
    let mut child = Command::new("node")
        .args(&node.flags)
        .arg(script)
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start node {script}: {e}"));
    let payload = serde_json::to_vec(input).expect("scenario serializes");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    // Written from another thread so a large output cannot deadlock against the input.
    let writer = std::thread::spawn(move || stdin.write_all(&payload));
    let out = child.wait_with_output().expect("node ran");
    writer
        .join()
        .expect("writer thread")
        .expect("scenario written to node");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "node {script} failed ({}):\n{stderr}",
        out.status
    );
    if !stderr.trim().is_empty() {
        eprintln!("node {script} stderr:\n{stderr}");
    }
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        let dump = std::env::temp_dir().join(format!("interop-output-{}.json", std::process::id()));
        let _ = std::fs::write(&dump, &out.stdout);
        let shown: String = String::from_utf8_lossy(&out.stdout)
            .chars()
            .take(2000)
            .collect();
        panic!(
            "node {script} printed no JSON ({e}); output saved to {}:\n{shown}\nstderr:\n{stderr}",
            dump.display()
        )
    })
}

/// Runs one scenario (an object) or a batch (an array) through the JS harness and
/// returns its result (an object, or an array in input order).
pub(crate) fn run_harness(scenarios: &Value) -> Value {
    let result = run_node_script("ssr/harness.mjs", scenarios);
    let results = result
        .as_array()
        .map_or_else(|| vec![&result], |a| a.iter().collect());
    for r in results {
        if let Some(error) = r.get("error") {
            panic!("harness scenario failed: {error}");
        }
    }
    result
}

/// Runs pure function calls through the harness (`kind: "call"`); one result per call,
/// `{"ok": value}` or `{"error": {...}}`.
pub(crate) fn run_calls(calls: &[Value]) -> Vec<Value> {
    let out = run_harness(&json!({ "kind": "call", "calls": calls }));
    out["results"].as_array().expect("results").clone()
}

/// `{"fn": name, "args": args}`.
pub(crate) fn call(name: &str, args: Value) -> Value {
    json!({ "fn": name, "args": args })
}
