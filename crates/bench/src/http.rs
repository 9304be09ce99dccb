//! `bench http`: requests/s and latency of a plain axum route, the same route behind our
//! proxy with a valid session cookie, and the official JS proxy, under the same wrk load.

use std::path::PathBuf;

use supabase_auth_emulator::{Emulator, EmulatorConfig};

use crate::Options;
use crate::charts::Chart;
use crate::common::{ScratchDir, has_command, signed_in_cookie};
use crate::load::{self, Load, Row};
use crate::rounds::{ratio, verdict};
use crate::signer::TestProject;
use crate::wrk::Header;

pub(crate) async fn run(options: &Options) -> Result<(), String> {
    measure(options).await.map(drop)
}

/// Requests/s of one run's median rounds.
pub(crate) struct Summary {
    pub(crate) plain: f64,
    pub(crate) ours: f64,
    pub(crate) js: f64,
}

/// `bench users`: `bench http --sessions N` for N = 1, 1,000, 10,000 and 100,000 (1 and
/// 1,000 with `--quick`), then the chart of requests/s against N.
pub(crate) async fn users(options: &Options) -> Result<(), String> {
    let counts: &[u64] = if options.quick {
        &[1, 1_000]
    } else {
        &[1, 1_000, 10_000, 100_000]
    };
    let mut summaries = Vec::new();
    for &users in counts {
        let options = Options {
            users: Some(users),
            ..options.clone()
        };
        summaries.push((users as f64, measure(&options).await?));
    }
    println!(
        "\n| users | plain axum (req/s) | ours (req/s) | official JS (req/s) | ours / plain |"
    );
    println!("|---:|---:|---:|---:|---:|");
    for (users, s) in &summaries {
        println!(
            "| {users} | {:.0} | {:.0} | {:.0} | {:.3} |",
            s.plain,
            s.ours,
            s.js,
            ratio(s.ours, s.plain)
        );
    }
    let line = |f: fn(&Summary) -> f64| summaries.iter().map(|(n, s)| (*n, f(s))).collect();
    Chart::new(
        "Requests/s against distinct users (median rounds)",
        &format!("cargo run --release -p bench -- users{}", options.flags()),
        "distinct users (each request one of their sessions at random)",
        "requests/s",
    )
    .log_x()
    .log_y()
    .legend_middle_left()
    .series("plain axum", line(|s| s.plain))
    .series("axum + SupabaseLayer (ours)", line(|s| s.ours))
    .series("node:http + @supabase/ssr getClaims", line(|s| s.js))
    .save("users", options.quick)
}

/// One `bench http` run: the table, the ratios, and the median rounds' requests/s.
pub(crate) async fn measure(options: &Options) -> Result<Summary, String> {
    if !has_command("wrk") {
        return Err("wrk is not installed (apt-get install -y wrk)".into());
    }
    if !has_command("node") {
        return Err("node is not installed (needed for the official JS server)".into());
    }
    let mut load = Load::new(options);
    let project = match options.users {
        None => Project::emulator().await?,
        Some(users) => Project::own(users).await?,
    };
    if let Project::Own { script, .. } = &project {
        load.script = Some(script.clone());
    }
    let (url, key, header) = (project.url(), project.key(), project.header().await?);
    let node_server = "interop/js/bench/server.mjs".to_owned();
    let node_args = |mode: &str| {
        vec![
            "--experimental-websocket".to_owned(),
            node_server.clone(),
            "--mode".into(),
            mode.into(),
            "--url".into(),
            url.clone(),
            "--key".into(),
            key.clone(),
        ]
    };

    let servers = vec![
        load.start_self("axum plain route", &["plain".into()])
            .await?,
        load.start_self(
            "axum + SupabaseLayer (ours)",
            &["proxy".into(), url.clone(), key.clone()],
        )
        .await?,
        load.start(
            "node:http + @supabase/ssr getClaims",
            "node",
            &node_args("ssr"),
        )
        .await?,
        load.start("node:http bare (no auth)", "node", &node_args("bare"))
            .await?,
    ];
    for server in &servers {
        server.check(&header).await?;
    }

    load.print_heading(&match options.users {
        None => "http".to_owned(),
        Some(users) => {
            format!("http, {users} users (each request one of their sessions at random)")
        }
    });
    let mut rows = Row::for_servers(&servers);
    // Rounds interleave the servers, so a burst of noise on the shared machine hits all
    // of them rather than one. Within a round, the two axum servers (whose ratio is the
    // target) alternate in short slices; each Node server then runs alone.
    for round in 0..load.rounds {
        let (axum, node) = servers.split_at(2);
        let (axum_rows, node_rows) = rows.split_at_mut(2);
        load.alternating_round(round, axum, axum_rows, &header)
            .await?;
        for (server, row) in node.iter().zip(node_rows.iter_mut()) {
            load.solo_round(round, server, row, &header).await?;
        }
    }
    load::stop_all(servers).await;
    project.stop().await;

    load::print_table(&rows);
    let (plain, ours, js, bare) = (rows[0].rps(), rows[1].rps(), rows[2].rps(), rows[3].rps());
    println!();
    rows[1]
        .paired_with(&rows[0])
        .print_target("ours / plain axum", ratio(ours, plain), 0.85);
    println!(
        "ours / official JS = {:.1} (target >= 30: {})",
        ratio(ours, js),
        verdict(ratio(ours, js) >= 30.0)
    );
    println!(
        "official JS / bare node:http = {:.3} (the JS stack's own cost of auth)",
        ratio(js, bare)
    );
    load::no_errors(&rows)?;
    Ok(Summary { plain, ours, js })
}

/// Whose sessions the servers check: the emulator with one signed-in user, or a project of
/// our own whose `users` sessions are signed directly (an Auth server would take minutes
/// to sign 100,000 users in), written one `Cookie` header per line for a wrk Lua script
/// that gives each request one of them at random.
enum Project {
    Emulator(Emulator),
    Own {
        project: TestProject,
        /// The first user's cookie, for the servers' check.
        first: String,
        /// Removed when dropped, whether the run ends well or not.
        _dir: ScratchDir,
        script: PathBuf,
    },
}

impl Project {
    async fn emulator() -> Result<Self, String> {
        let emulator = EmulatorConfig::default()
            .start()
            .await
            .map_err(|e| format!("emulator: {e}"))?;
        Ok(Self::Emulator(emulator))
    }

    async fn own(users: u64) -> Result<Self, String> {
        let project = TestProject::start().await?;
        // 100,000 users' cookies take about 130 MB.
        let dir = ScratchDir::new()?;
        let cookies = dir.0.join("cookies.txt");
        project.signer.write_sessions(0..users, None, &cookies)?;
        let (_, first) = project.signer.session(0)?;
        let script = dir.0.join("sessions.lua");
        std::fs::write(
            &script,
            format!(
                "-- Written by `bench http --sessions N`: each request carries the session\n\
                 -- cookie of one of N users, chosen at random. The requests are formatted in\n\
                 -- init, once wrk has set the Host header.\n\
                 local requests = {{}}\n\
                 local count = 0\n\
                 init = function(args)\n\
                 \x20 for line in io.lines(\"{}\") do\n\
                 \x20   requests[#requests + 1] = wrk.format(\"GET\", \"/\", {{ [\"Cookie\"] = line }})\n\
                 \x20 end\n\
                 \x20 count = #requests\n\
                 end\n\
                 request = function()\n\
                 \x20 return requests[math.random(count)]\n\
                 end\n",
                cookies.display()
            ),
        )
        .map_err(|e| e.to_string())?;
        Ok(Self::Own {
            project,
            first,
            _dir: dir,
            script,
        })
    }

    fn url(&self) -> String {
        match self {
            Self::Emulator(emulator) => emulator.url(),
            Self::Own { project, .. } => project.url.clone(),
        }
    }

    fn key(&self) -> String {
        match self {
            Self::Emulator(emulator) => emulator.publishable_key().to_owned(),
            Self::Own { .. } => TestProject::KEY.to_owned(),
        }
    }

    /// The one `Cookie` header of a run without a script, and of every server's check.
    async fn header(&self) -> Result<Header, String> {
        Ok(Header::cookie(match self {
            Self::Emulator(emulator) => signed_in_cookie(emulator).await?,
            Self::Own { first, .. } => first.clone(),
        }))
    }

    async fn stop(self) {
        match self {
            Self::Emulator(emulator) => emulator.shutdown().await,
            Self::Own { project, .. } => project.stop(),
        }
    }
}
