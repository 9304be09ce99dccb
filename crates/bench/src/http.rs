//! `bench http`: requests/s and latency of a plain axum route, the same route behind our
//! proxy with a valid session cookie, and the official JS proxy, under the same wrk load.

use supabase_auth_emulator::EmulatorConfig;

use crate::Options;
use crate::common::{has_command, signed_in_cookie};
use crate::load::{self, Load, Row};
use crate::rounds::{ratio, verdict};
use crate::wrk::Header;

pub(crate) async fn run(options: &Options) -> Result<(), String> {
    if !has_command("wrk") {
        return Err("wrk is not installed (apt-get install -y wrk)".into());
    }
    if !has_command("node") {
        return Err("node is not installed (needed for the official JS server)".into());
    }
    let load = Load::new(options);

    let emulator = EmulatorConfig::default()
        .start()
        .await
        .map_err(|e| format!("emulator: {e}"))?;
    let header = Header::cookie(signed_in_cookie(&emulator).await?);
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
        load::start_self("axum plain route", &["plain".into()]).await?,
        load::start_self(
            "axum + SupabaseLayer (ours)",
            &[
                "proxy".into(),
                emulator.url(),
                emulator.publishable_key().to_owned(),
            ],
        )
        .await?,
        load::start(
            "node:http + @supabase/ssr getClaims",
            "node",
            &node_args("ssr"),
        )
        .await?,
        load::start("node:http bare (no auth)", "node", &node_args("bare")).await?,
    ];
    for server in &servers {
        server.check(&header).await?;
    }

    load.print_heading("http");
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
    emulator.shutdown().await;

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
    load::no_errors(&rows)
}
