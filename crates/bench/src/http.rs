//! `bench http`: requests/s and latency of a plain axum route, the same route behind our
//! proxy with a valid session cookie, and the official JS proxy, under the same wrk load.

use std::process::Stdio;
use std::time::Duration;

use supabase_auth_emulator::EmulatorConfig;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

use crate::Options;
use crate::common::{has_command, median, repo_root, signed_in_cookie};
use crate::wrk::{self, WrkResult};

/// The server side gets core 0, wrk core 1 (when `taskset` exists).
const SERVER_CORE: usize = 0;
const LOAD_CORE: usize = 1;

/// A server under test: its name, the child process and its port.
struct Server {
    name: &'static str,
    child: Child,
    port: u16,
}

/// Starts `program args` (pinned to the server core), waits for its `listening PORT`.
async fn start(name: &'static str, program: &str, args: &[String]) -> Result<Server, String> {
    let mut command = if has_command("taskset") {
        let mut c = Command::new("taskset");
        c.arg("-c").arg(SERVER_CORE.to_string()).arg(program);
        c
    } else {
        Command::new(program)
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
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// Stops the child we started, by its own handle.
    async fn stop(mut self) {
        drop(self.child.stdin.take());
        if tokio::time::timeout(Duration::from_secs(5), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// One GET with the cookie: the server must answer 200 before it is measured.
async fn check(server: &Server, cookie: &str) -> Result<(), String> {
    let response = reqwest::Client::new()
        .get(server.url())
        .header("cookie", cookie)
        .send()
        .await
        .map_err(|e| format!("{}: {e}", server.name))?;
    if response.status() != 200 {
        return Err(format!("{}: answered {}", server.name, response.status()));
    }
    Ok(())
}

/// The figures of one server: the median round of each measure.
struct Row {
    name: &'static str,
    rounds: Vec<WrkResult>,
}

impl Row {
    fn pick(&self, f: impl Fn(&WrkResult) -> f64) -> f64 {
        let mut values: Vec<f64> = self.rounds.iter().map(f).collect();
        median(&mut values)
    }
    fn rps(&self) -> f64 {
        self.pick(|r| r.requests_per_sec)
    }
}

pub(crate) async fn run(options: &Options) -> Result<(), String> {
    if !has_command("wrk") {
        return Err("wrk is not installed (apt-get install -y wrk)".into());
    }
    if !has_command("node") {
        return Err("node is not installed (needed for the official JS server)".into());
    }
    let duration =
        Duration::from_secs(
            options
                .duration_secs
                .unwrap_or(if options.quick { 1 } else { 10 }),
        );
    let warmup = if options.quick {
        Duration::from_secs(1)
    } else {
        Duration::from_secs(3)
    };
    let connections = options.connections.unwrap_or(32);
    let rounds = options
        .rounds
        .unwrap_or(if options.quick { 1 } else { 5 })
        .max(1);

    let emulator = EmulatorConfig::default()
        .start()
        .await
        .map_err(|e| format!("emulator: {e}"))?;
    let cookie = signed_in_cookie(&emulator).await?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let exe = exe.to_string_lossy().into_owned();
    let node_server = "interop/js/bench/server.mjs".to_owned();
    let node_args = |mode: &str| {
        vec![
            "--experimental-websocket".to_owned(),
            node_server.clone(),
            "--mode".into(),
            mode.into(),
            "--url".into(),
            emulator.url(),
            "--key".into(),
            emulator.publishable_key().to_owned(),
        ]
    };

    let servers = vec![
        start("axum plain route", &exe, &["serve".into(), "plain".into()]).await?,
        start(
            "axum + SupabaseLayer (ours)",
            &exe,
            &[
                "serve".into(),
                "proxy".into(),
                emulator.url(),
                emulator.publishable_key().to_owned(),
            ],
        )
        .await?,
        start(
            "node:http + @supabase/ssr getClaims",
            "node",
            &node_args("ssr"),
        )
        .await?,
        start("node:http bare (no auth)", "node", &node_args("bare")).await?,
    ];
    for server in &servers {
        check(server, &cookie).await?;
    }

    println!(
        "\n## http: wrk -t1 -c{connections} -d{}s, {rounds} round(s), servers on core {SERVER_CORE}, wrk on core {LOAD_CORE}{}",
        duration.as_secs(),
        if has_command("taskset") {
            ""
        } else {
            " (taskset missing: not pinned)"
        }
    );
    let mut rows: Vec<Row> = servers
        .iter()
        .map(|s| Row {
            name: s.name,
            rounds: Vec::new(),
        })
        .collect();
    // Rounds interleave the servers, so a burst of noise on the shared machine hits all
    // of them rather than one. Within a round, the two axum servers (whose ratio is the
    // target) alternate in short slices: the machine's speed changes on a scale of
    // seconds, and slices a few seconds apart see the same machine.
    let slices = u32::try_from(duration.as_secs().div_ceil(2).max(1)).unwrap_or(1);
    let slice = duration / slices;
    for round in 0..rounds {
        let (axum, node) = servers.split_at(2);
        let (axum_rows, node_rows) = rows.split_at_mut(2);
        for server in axum {
            wrk::run(&server.url(), &cookie, connections, warmup, Some(LOAD_CORE)).await?;
        }
        let mut parts: [Vec<WrkResult>; 2] = [Vec::new(), Vec::new()];
        for _ in 0..slices {
            for (server, part) in axum.iter().zip(parts.iter_mut()) {
                part.push(
                    wrk::run(&server.url(), &cookie, connections, slice, Some(LOAD_CORE)).await?,
                );
            }
        }
        for ((server, row), part) in axum.iter().zip(axum_rows.iter_mut()).zip(parts) {
            let result = WrkResult::merge(&part);
            report(round, server.name, &result);
            row.rounds.push(result);
        }
        for (server, row) in node.iter().zip(node_rows.iter_mut()) {
            wrk::run(&server.url(), &cookie, connections, warmup, Some(LOAD_CORE)).await?;
            let result = wrk::run(
                &server.url(),
                &cookie,
                connections,
                duration,
                Some(LOAD_CORE),
            )
            .await?;
            report(round, server.name, &result);
            row.rounds.push(result);
        }
    }
    for server in servers {
        server.stop().await;
    }
    emulator.shutdown().await;

    println!("\n| server | requests/s | p50 (ms) | p99 (ms) | errors |");
    println!("|---|---:|---:|---:|---:|");
    for row in &rows {
        let errors: u64 = row.rounds.iter().map(|r| r.errors).sum();
        println!(
            "| {} | {:.0} | {:.3} | {:.3} | {errors} |",
            row.name,
            row.rps(),
            row.pick(|r| r.p50_ms),
            row.pick(|r| r.p99_ms)
        );
    }
    let (plain, ours, js, bare) = (rows[0].rps(), rows[1].rps(), rows[2].rps(), rows[3].rps());
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    // Within a round, plain axum and ours ran in alternating slices, so their ratio
    // cancels the swings of the shared machine's speed that the medians of the two
    // columns, taken from different rounds, do not.
    let mut paired: Vec<f64> = rows[0]
        .rounds
        .iter()
        .zip(&rows[1].rounds)
        .map(|(p, o)| ratio(o.requests_per_sec, p.requests_per_sec))
        .collect();
    let per_round: Vec<String> = paired.iter().map(|r| format!("{r:.3}")).collect();
    let paired_median = median(&mut paired);
    println!();
    println!(
        "ours / plain axum = {:.3} (medians of the columns); per round {}, median {:.3} (target >= 0.85: {})",
        ratio(ours, plain),
        per_round.join(", "),
        paired_median,
        verdict(paired_median >= 0.85 && ratio(ours, plain) >= 0.85)
    );
    println!(
        "ours / official JS = {:.1} (target >= 30: {})",
        ratio(ours, js),
        verdict(ratio(ours, js) >= 30.0)
    );
    println!(
        "official JS / bare node:http = {:.3} (the JS stack's own cost of auth)",
        ratio(js, bare)
    );
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

pub(crate) fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}
