//! What `bench http`, `bench api` and `bench actix` share: servers in child processes
//! pinned to one core, wrk pinned to the other (or, with `--threads 2`, servers on
//! every core and wrk beside them), rounds in which the two axum servers take turns in
//! short slices, and the table of results.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

use crate::Options;
use crate::common::{has_command, median, repo_root};
use crate::rounds::{self, Paired};
use crate::wrk::{self, Header, Requests, WrkResult};

/// The server side gets core 0, wrk core 1 (when `taskset` exists), unless the servers
/// run on every core (`--threads N`, N > 1).
pub(crate) const SERVER_CORE: usize = 0;
pub(crate) const LOAD_CORE: usize = 1;

/// Where servers and wrk run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement {
    /// Servers on one thread pinned to [`SERVER_CORE`], wrk pinned to [`LOAD_CORE`].
    Split,
    /// Servers with this many runtime worker threads and wrk's one thread, all free to
    /// run on any core: with two cores, wrk takes its share from the servers, the same
    /// share for each server since they take turns in the same rounds.
    Shared(usize),
}

impl Placement {
    pub(crate) fn from_threads(threads: Option<usize>) -> Self {
        match threads {
            Some(n) if n > 1 => Self::Shared(n),
            _ => Self::Split,
        }
    }

    /// The core a server child is pinned to, if any.
    fn server_core(self) -> Option<usize> {
        (self == Self::Split).then_some(SERVER_CORE)
    }

    /// The core wrk is pinned to, if any.
    fn load_core(self) -> Option<usize> {
        (self == Self::Split).then_some(LOAD_CORE)
    }

    /// The arguments that give a `bench serve` child its worker threads.
    fn serve_args(self) -> Vec<String> {
        match self {
            Self::Split => Vec::new(),
            Self::Shared(n) => vec!["--threads".into(), n.to_string()],
        }
    }
}

/// A server under test: its name, the child process and its port.
pub(crate) struct Server {
    pub(crate) name: &'static str,
    child: Child,
    port: u16,
}

/// Starts `program args` (pinned to `core` when given and `taskset` exists), waits for
/// its `listening PORT`.
async fn start(
    name: &'static str,
    program: &str,
    args: &[String],
    core: Option<usize>,
) -> Result<Server, String> {
    let mut command = match core.filter(|_| has_command("taskset")) {
        Some(core) => {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(core.to_string()).arg(program);
            c
        }
        None => Command::new(program),
    };
    command
        .args(args)
        .current_dir(repo_root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    let mut child = command
        .spawn()
        .map_err(|e| format!("{name}: cannot start {program}: {e}"))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| format!("{name}: no stdout"))?;
    let mut lines = BufReader::new(stdout).lines();
    let port = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(port) = line.strip_prefix("listening ") {
                return port.trim().parse::<u16>().ok();
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .ok_or_else(|| format!("{name}: did not report a port"))?;
    Ok(Server { name, child, port })
}

impl Server {
    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// The child's resident set size (VmRSS) and its peak (VmHWM), in KiB; zeros when
    /// it cannot be read.
    pub(crate) fn rss_kib(&self) -> (u64, u64) {
        match self.child.id() {
            Some(pid) => crate::common::rss_kib_of(&format!("/proc/{pid}/status")),
            None => (0, 0),
        }
    }

    /// One GET with `header`: the server must answer 200 before it is measured.
    pub(crate) async fn check(&self, header: &Header) -> Result<(), String> {
        let response = reqwest::Client::new()
            .get(self.url())
            .header(header.name, &header.value)
            .send()
            .await
            .map_err(|e| format!("{}: {e}", self.name))?;
        if response.status() != 200 {
            return Err(format!("{}: answered {}", self.name, response.status()));
        }
        Ok(())
    }

    /// Stops the child we started, by its own handle.
    pub(crate) async fn stop(mut self) {
        drop(self.child.stdin.take());
        if tokio::time::timeout(Duration::from_secs(5), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// Stops every server, in turn.
pub(crate) async fn stop_all(servers: Vec<Server>) {
    for server in servers {
        server.stop().await;
    }
}

/// The wrk settings of a run: `--duration`, `--connections`, `--rounds`, `--quick`, and
/// the Lua script that makes the requests, when each must carry one of many cookies.
pub(crate) struct Load {
    pub(crate) placement: Placement,
    pub(crate) connections: u32,
    pub(crate) warmup: Duration,
    pub(crate) duration: Duration,
    pub(crate) rounds: usize,
    pub(crate) script: Option<PathBuf>,
}

impl Load {
    pub(crate) fn new(options: &Options) -> Self {
        Self {
            placement: Placement::from_threads(options.threads),
            connections: options.connections.unwrap_or(32),
            warmup: Duration::from_secs(if options.quick { 1 } else { 3 }),
            duration: Duration::from_secs(options.duration_secs.unwrap_or(if options.quick {
                1
            } else {
                10
            })),
            rounds: options
                .rounds
                .unwrap_or(if options.quick { 1 } else { 5 })
                .max(1),
            script: None,
        }
    }

    /// Starts `program args`, a server placed as `--threads` says (a program other than
    /// this bench, such as Node.js, keeps its own threads).
    pub(crate) async fn start(
        &self,
        name: &'static str,
        program: &str,
        args: &[String],
    ) -> Result<Server, String> {
        start(name, program, args, self.placement.server_core()).await
    }

    /// `bench serve KIND [URL KEY] [--threads N]`, this same executable as a server child.
    pub(crate) async fn start_self(
        &self,
        name: &'static str,
        args: &[String],
    ) -> Result<Server, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut all = vec!["serve".to_owned()];
        all.extend_from_slice(args);
        all.extend(self.placement.serve_args());
        self.start(name, &exe.to_string_lossy(), &all).await
    }

    /// `## NAME: wrk -t1 -c32 -d10s, 5 round(s), servers on core 0, wrk on core 1`.
    pub(crate) fn print_heading(&self, name: &str) {
        let placement = match self.placement {
            Placement::Split => format!(
                "servers on core {SERVER_CORE}, wrk on core {LOAD_CORE}{}",
                if has_command("taskset") {
                    ""
                } else {
                    " (taskset missing: not pinned)"
                }
            ),
            Placement::Shared(n) => {
                format!("servers on {n} runtime threads, wrk beside them, nothing pinned")
            }
        };
        println!(
            "\n## {name}: wrk -t1 -c{} -d{}s, {} round(s), {placement}",
            self.connections,
            self.duration.as_secs(),
            self.rounds,
        );
    }

    async fn wrk(
        &self,
        server: &Server,
        header: &Header,
        span: Duration,
    ) -> Result<WrkResult, String> {
        let requests = match &self.script {
            Some(script) => Requests::Script(script),
            None => Requests::Header(header),
        };
        wrk::run(
            &server.url(),
            requests,
            self.connections,
            span,
            self.placement.load_core(),
        )
        .await
    }

    /// One round of `servers` in turn: after a warm-up of each, they alternate in slices
    /// of about 2 s, `duration` each in all. Records each server's merged figure.
    pub(crate) async fn alternating_round(
        &self,
        round: usize,
        servers: &[Server],
        rows: &mut [Row],
        header: &Header,
    ) -> Result<(), String> {
        for server in servers {
            self.wrk(server, header, self.warmup).await?;
        }
        let (count, slice) = rounds::slices(self.duration);
        let parts = rounds::alternate(servers.len(), count, |i| {
            self.wrk(&servers[i], header, slice)
        })
        .await?;
        for ((server, row), part) in servers.iter().zip(rows.iter_mut()).zip(parts) {
            let result = WrkResult::merge(&part);
            report(round, server.name, &result);
            row.rounds.push(result);
        }
        Ok(())
    }

    /// One run of `server` alone for `duration`, without a warm-up (`bench cold`: every
    /// request must be new to the server).
    pub(crate) async fn measure(
        &self,
        round: usize,
        server: &Server,
        header: &Header,
    ) -> Result<WrkResult, String> {
        let result = self.wrk(server, header, self.duration).await?;
        report(round, server.name, &result);
        Ok(result)
    }

    /// One round of `server` alone: a warm-up, then `duration` in one run.
    pub(crate) async fn solo_round(
        &self,
        round: usize,
        server: &Server,
        row: &mut Row,
        header: &Header,
    ) -> Result<(), String> {
        self.wrk(server, header, self.warmup).await?;
        let result = self.wrk(server, header, self.duration).await?;
        report(round, server.name, &result);
        row.rounds.push(result);
        Ok(())
    }
}

/// The figures of one server, one per round.
pub(crate) struct Row {
    pub(crate) name: &'static str,
    pub(crate) rounds: Vec<WrkResult>,
}

impl Row {
    pub(crate) fn for_servers(servers: &[Server]) -> Vec<Row> {
        servers
            .iter()
            .map(|s| Row {
                name: s.name,
                rounds: Vec::new(),
            })
            .collect()
    }

    /// The median round of one measure.
    pub(crate) fn pick(&self, f: impl Fn(&WrkResult) -> f64) -> f64 {
        let mut values: Vec<f64> = self.rounds.iter().map(f).collect();
        median(&mut values)
    }

    pub(crate) fn rps(&self) -> f64 {
        self.pick(|r| r.requests_per_sec)
    }

    fn rates(&self) -> Vec<f64> {
        self.rounds.iter().map(|r| r.requests_per_sec).collect()
    }

    /// The per-round ratios of `self` to `base` (which ran in alternating slices).
    pub(crate) fn paired_with(&self, base: &Row) -> Paired {
        Paired::new(&base.rates(), &self.rates())
    }
}

/// The table: each server's median round of each measure, and its errors in all.
pub(crate) fn print_table(rows: &[Row]) {
    println!("\n| server | requests/s | p50 (ms) | p99 (ms) | errors |");
    println!("|---|---:|---:|---:|---:|");
    for row in rows {
        let errors: u64 = row.rounds.iter().map(|r| r.errors).sum();
        println!(
            "| {} | {:.0} | {:.3} | {:.3} | {errors} |",
            row.name,
            row.rps(),
            row.pick(|r| r.p50_ms),
            row.pick(|r| r.p99_ms)
        );
    }
}

/// An error when any request of any round failed (wrk counts non-2xx and socket errors).
pub(crate) fn no_errors(rows: &[Row]) -> Result<(), String> {
    if rows.iter().any(|r| r.rounds.iter().any(|x| x.errors > 0)) {
        return Err("some requests failed (non-2xx or socket errors); see the table".into());
    }
    Ok(())
}

fn report(round: usize, name: &str, result: &WrkResult) {
    eprintln!(
        "round {}: {:<40} {:>10.0} req/s  p50 {:.3} ms  p99 {:.3} ms  errors {}",
        round + 1,
        name,
        result.requests_per_sec,
        result.p50_ms,
        result.p99_ms,
        result.errors
    );
}

/// A baseline server and ours, both already answering `header` with 200: the rounds of
/// alternating slices, the table, and the paired ratio ours / baseline against the 0.85
/// target. Stops both servers. `bench api` and `bench actix`.
pub(crate) async fn baseline_and_ours(
    load: &Load,
    heading: &str,
    servers: Vec<Server>,
    header: &Header,
    ratio_label: &str,
) -> Result<(), String> {
    for server in &servers {
        server.check(header).await?;
    }
    load.print_heading(heading);
    let mut rows = Row::for_servers(&servers);
    for round in 0..load.rounds {
        load.alternating_round(round, &servers, &mut rows, header)
            .await?;
    }
    stop_all(servers).await;

    print_table(&rows);
    println!();
    rows[1].paired_with(&rows[0]).print_target(
        ratio_label,
        crate::rounds::ratio(rows[1].rps(), rows[0].rps()),
        0.85,
    );
    no_errors(&rows)
}
