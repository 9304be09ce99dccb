//! `bench api`: requests/s and latency of a plain axum route and the same route behind
//! `ApiAuthLayer` (mode `user`), every request carrying `Authorization: Bearer <access
//! token>`, under the same wrk load. The bearer path's counterpart of `bench http`.

use supabase_auth_emulator::EmulatorConfig;

use crate::Options;
use crate::common::{has_command, signed_in_access_token};
use crate::load::{self, Load, Row};
use crate::rounds::ratio;
use crate::wrk::Header;

pub(crate) async fn run(options: &Options) -> Result<(), String> {
    if !has_command("wrk") {
        return Err("wrk is not installed (apt-get install -y wrk)".into());
    }
    let load = Load::new(options);

    let emulator = EmulatorConfig::default()
        .start()
        .await
        .map_err(|e| format!("emulator: {e}"))?;
    let header = Header::bearer(&signed_in_access_token(&emulator).await?);
    let servers = vec![
        load::start_self("axum plain route", &["plain".into()]).await?,
        load::start_self(
            "axum + ApiAuthLayer, bearer (ours)",
            &[
                "api".into(),
                emulator.url(),
                emulator.publishable_key().to_owned(),
            ],
        )
        .await?,
    ];
    for server in &servers {
        server.check(&header).await?;
    }

    load.print_heading("api");
    let mut rows = Row::for_servers(&servers);
    for round in 0..load.rounds {
        load.alternating_round(round, &servers, &mut rows, &header)
            .await?;
    }
    load::stop_all(servers).await;
    emulator.shutdown().await;

    load::print_table(&rows);
    println!();
    rows[1].paired_with(&rows[0]).print_target(
        "ours (bearer) / plain axum",
        ratio(rows[1].rps(), rows[0].rps()),
        0.85,
    );
    load::no_errors(&rows)
}
