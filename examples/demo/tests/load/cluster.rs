//! Several demo processes behind HAProxy, all on 127.0.0.1: the processes the test
//! starts, and only those, are killed (by PID) when the [`Cluster`] is dropped, also when
//! the test panics.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::soak::SERVED_BY;

/// How long a demo process or HAProxy may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Demo processes and the load balancer in front of them.
pub(crate) struct Cluster {
    /// The load balancer's origin, `http://127.0.0.1:PORT`.
    pub(crate) url: String,
    /// HAProxy's name of each process (`demo0`, ...), as in the [`SERVED_BY`] header.
    pub(crate) names: Vec<String>,
    /// Every process started, HAProxy first; each is one PID we own.
    children: Vec<(String, Child)>,
    dir: PathBuf,
}

impl Cluster {
    /// Starts `processes` demo processes on ports of their own choosing, signed in
    /// against `supabase_url` with `key`, with the extra `env` settings, and HAProxy on a
    /// free loopback port in front of them: round-robin, no stickiness, no logs; it
    /// names the process that answered in the [`SERVED_BY`] response header.
    pub(crate) fn start(
        processes: usize,
        supabase_url: &str,
        key: &str,
        env: &[(&str, &str)],
    ) -> Self {
        let haproxy = haproxy_binary();
        let dir = std::env::temp_dir().join(format!(
            "demo-balancer-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut cluster = Self {
            url: String::new(),
            names: Vec::new(),
            children: Vec::new(),
            dir,
        };
        let mut backends = Vec::new();
        for i in 0..processes {
            let name = format!("demo{i}");
            let mut command = Command::new(env!("CARGO_BIN_EXE_demo"));
            command
                .env("PORT", "0")
                .env("SUPABASE_URL", supabase_url)
                .env("SUPABASE_KEY", key)
                .env("DATABASE_URL", "off")
                .env("RUST_LOG", "error")
                .env("NO_COLOR", "1")
                .env_remove("PUBLIC_URL")
                .env_remove("DEMO_JWT_EXP_SECS")
                .env_remove("DEMO_REFRESH_MARGIN_SECS")
                .env_remove("DEMO_OAUTH_PROVIDERS")
                .envs(env.iter().copied())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit());
            let mut child = command
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start the demo binary: {e}"));
            let stdout = child.stdout.take().unwrap();
            cluster.children.push((name.clone(), child));
            let url = app_url(&name, stdout);
            let addr = url
                .strip_prefix("http://")
                .unwrap_or_else(|| panic!("{name}: unexpected app URL {url}"))
                .to_owned();
            backends.push((name.clone(), addr));
            cluster.names.push(name);
        }

        let port = free_port();
        let config = haproxy_config(port, &backends);
        let config_path = cluster.dir.join("haproxy.cfg");
        std::fs::write(&config_path, config).unwrap();
        let child = Command::new(&haproxy)
            // -db: in the foreground, not as a daemon, so it stays our child.
            .args(["-db", "-f"])
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", haproxy.display()));
        cluster.children.insert(0, ("haproxy".into(), child));
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let started = Instant::now();
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Some(status) = cluster.children[0].1.try_wait().unwrap() {
                panic!("haproxy exited at start ({status}); its messages are above");
            }
            assert!(
                started.elapsed() < START_TIMEOUT,
                "haproxy did not listen on {addr}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        cluster.url = format!("http://{addr}");
        cluster
    }

    /// Panics unless every process started is still running.
    pub(crate) fn assert_running(&mut self) {
        for (name, child) in &mut self.children {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("{name} exited ({status})");
            }
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            // SIGKILL to this child's PID, then reap it. An error means it had exited.
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Reads a demo's banner until its `App:` line; a thread then keeps reading the rest
/// (so the process never blocks on a full pipe) and passes it on to stderr.
fn app_url(name: &str, stdout: std::process::ChildStdout) -> String {
    let (tx, rx) = mpsc::channel();
    let prefix = name.to_owned();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            match line.trim().strip_prefix("App:") {
                Some(url) if tx.is_some() => {
                    let _ = tx.take().map(|tx| tx.send(url.trim().to_owned()));
                }
                // Log lines (the banner's are indented).
                _ if tx.is_none() && !line.starts_with("  ") && !line.trim().is_empty() => {
                    eprintln!("{prefix}: {line}");
                }
                _ => {}
            }
        }
    });
    rx.recv_timeout(START_TIMEOUT)
        .unwrap_or_else(|e| panic!("{name} printed no App: line ({e}); its messages are above"))
}

/// A port that was free a moment ago on 127.0.0.1.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn haproxy_config(port: u16, backends: &[(String, String)]) -> String {
    let servers: String = backends
        .iter()
        .map(|(name, addr)| format!("    server {name} {addr}\n"))
        .collect();
    format!(
        "\
# Written by examples/demo/tests/load/cluster.rs. No `log` lines: HAProxy logs nothing.
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s

frontend demo
    bind 127.0.0.1:{port}
    default_backend demos

# Round-robin per request, no stickiness (no cookie, no stick table).
backend demos
    balance roundrobin
    http-response set-header {SERVED_BY} %[srv_name]
{servers}"
    )
}

/// `haproxy` on the `PATH`, else in the sbin directories a non-root `PATH` may lack.
fn haproxy_binary() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join("haproxy"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "haproxy not found (on PATH or in /usr/sbin): this test runs three demo \
                 processes behind it. Install it with `bash scripts/install-system-deps.sh` \
                 (the test command does)."
            )
        })
}
