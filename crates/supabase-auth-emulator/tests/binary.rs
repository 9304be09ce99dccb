//! The `supabase-auth-emulator` binary with a settings file: `./supabase/config.toml`
//! found on its own, `--config PATH`, flags over the file, and a bad file refused.
//! Each test runs the binary on port 0 and reads the bound address from its banner.
//! Also `--database-url`: the users in PostgreSQL.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

const PUBLISHABLE_KEY: &str = "sb_publishable_ACJWlzQHlZjBrEguHvfOxg_3BJgxAaH";

/// A directory of its own under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "supabase-auth-emulator-{name}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.0.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_supabase-auth-emulator"));
    cmd.args(args)
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// A running binary, stopped (this process only) on drop.
struct Running {
    child: Child,
    url: String,
    banner: String,
    http: reqwest::Client,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    fn start(dir: &Path, args: &[&str]) -> Self {
        let mut all = vec!["--port", "0"];
        all.extend_from_slice(args);
        let mut child = command(dir, &all).spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut banner = String::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                banner.push_str(&line);
                banner.push('\n');
                if line.starts_with("Press Ctrl-C") {
                    let _ = tx.send(banner);
                    return;
                }
            }
        });
        let Ok(banner) = rx.recv_timeout(Duration::from_secs(60)) else {
            let _ = child.kill();
            let mut err = String::new();
            if let Some(mut stderr) = child.stderr.take() {
                let _ = stderr.read_to_string(&mut err);
            }
            panic!("the emulator did not start: {err}");
        };
        let url = banner
            .lines()
            .find_map(|l| l.trim().strip_prefix("API URL: "))
            .unwrap()
            .to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        Self {
            child,
            url,
            banner,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    fn banner_line(&self, label: &str) -> &str {
        self.banner
            .lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .unwrap_or_else(|| panic!("no {label} in {}", self.banner))
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let res = req.header("apikey", PUBLISHABLE_KEY).send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let url = format!("{}/auth/v1{path}", self.url);
        self.send(self.http.post(url).json(&body)).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(format!("{}{path}", self.url)))
            .await
    }
}

#[tokio::test]
async fn reads_supabase_config_toml_in_the_current_directory() {
    let dir = TempDir::new("found");
    let file = dir.write(
        "supabase/config.toml",
        "[api]\nport = 54321\n[auth]\nenable_anonymous_sign_ins = true\n\
         [auth.external.github]\nenabled = true\nsecret = \"env(GITHUB_SECRET)\"\n",
    );
    let emu = Running::start(&dir.0, &[]);
    assert_eq!(emu.banner_line("Settings: "), file.display().to_string());
    assert_eq!(emu.banner_line("OAuth providers: "), "github");

    let (status, body) = emu.post("/signup", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["is_anonymous"], true);
    let (status, body) = emu
        .get("/auth/v1/authorize?provider=github&skip_http_redirect=true")
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn without_a_file_the_cli_defaults_apply() {
    let dir = TempDir::new("none");
    let emu = Running::start(&dir.0, &[]);
    assert_eq!(
        emu.banner_line("Settings: "),
        "the Supabase CLI's defaults (no supabase/config.toml)"
    );
    assert!(emu.banner_line("OAuth providers: ").starts_with("none"));
    let (status, body) = emu.post("/signup", json!({})).await;
    assert_eq!(
        (status, &body["error_code"]),
        (422, &json!("anonymous_provider_disabled"))
    );
    let (status, body) = emu
        .get("/auth/v1/authorize?provider=github&skip_http_redirect=true")
        .await;
    assert_eq!(
        (status, &body["msg"]),
        (400, &json!("Unsupported provider: provider is not enabled"))
    );
}

#[tokio::test]
async fn flags_override_the_config_file() {
    let dir = TempDir::new("flags");
    // Not read: --config names another file.
    dir.write(
        "supabase/config.toml",
        "[auth]\nenable_anonymous_sign_ins = true\n",
    );
    let file = dir.write(
        "other.toml",
        "[auth]\nenable_signup = false\n[auth.email]\notp_length = 9\n",
    );
    let emu = Running::start(
        &dir.0,
        &[
            "--config",
            "other.toml",
            "--disable-signup=false",
            "--email-confirmations",
            "--enable-provider",
            "gitlab,zoom",
        ],
    );
    assert_eq!(emu.banner_line("Settings: "), file.display().to_string());
    assert_eq!(emu.banner_line("OAuth providers: "), "gitlab, zoom");

    let (status, body) = emu
        .post(
            "/signup",
            json!({ "email": "ann@example.com", "password": "secret123" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("access_token").is_none(), "{body}");
    let (status, mail) = emu
        .get("/inbox/api/messages/latest?to=ann@example.com")
        .await;
    assert_eq!(status, 200);
    assert_eq!(mail["otp"].as_str().unwrap().len(), 9);
    // The other file's enable_anonymous_sign_ins was not read.
    let (status, _) = emu.post("/signup", json!({})).await;
    assert_eq!(status, 422);
}

#[test]
fn a_bad_file_stops_the_binary_with_the_key_named() {
    let dir = TempDir::new("bad");
    dir.write(
        "supabase/config.toml",
        "[auth.email]\notp_length = \"six\"\n",
    );
    let out = command(&dir.0, &["--port", "0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = format!(
        "error: {}: auth.email.otp_length: expected a non-negative integer, found string \"six\"\n",
        dir.0.join("supabase/config.toml").display()
    );
    assert!(stderr.ends_with(&expected), "{stderr}");

    let out = command(&dir.0, &["--no-config", "--otp-length", "4"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .ends_with("error: invalid --otp-length: 4 (6 to 10)\n")
    );
}

#[tokio::test]
async fn database_url_keeps_the_users_in_postgres() {
    let dir = TempDir::new("postgres");
    let url = support::fresh_database();
    let emu = Running::start(&dir.0, &["--database-url", &url, "--email-signup"]);
    let (socket_dir, name) = support::socket_dir_and_database(&url);
    assert_eq!(
        emu.banner_line("Database: "),
        format!("PostgreSQL at {socket_dir}, database {name}")
    );

    let (status, body) = emu
        .post(
            "/signup",
            json!({ "email": "Bin@Example.com", "password": "secret123" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["user"]["id"].as_str().unwrap().to_owned();
    let rows = std::thread::spawn(move || {
        let mut client = support::connect(&url).unwrap();
        client
            .query("SELECT id::text, email FROM auth.users", &[])
            .unwrap()
            .iter()
            .map(|r| (r.get::<_, String>(0), r.get::<_, String>(1)))
            .collect::<Vec<_>>()
    })
    .join()
    .unwrap();
    assert_eq!(rows, vec![(id, "bin@example.com".to_owned())]);
}
