//! `bench api`: requests/s and latency of a plain axum route and the same route behind
//! `ApiAuthLayer` (mode `user`), every request carrying `Authorization: Bearer <access
//! token>`, under the same wrk load. The bearer path's counterpart of `bench http`.

use supabase_auth_emulator::EmulatorConfig;

use crate::Options;
use crate::common::{has_command, signed_in_access_token};
use crate::load::{self, Load};
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
        load.start_self("axum plain route", &["plain".into()])
            .await?,
        load.start_self(
            "axum + ApiAuthLayer, bearer (ours)",
            &[
                "api".into(),
                emulator.url(),
                emulator.publishable_key().to_owned(),
            ],
        )
        .await?,
    ];
    let result =
        load::baseline_and_ours(&load, "api", servers, &header, "ours (bearer) / plain axum").await;
    emulator.shutdown().await;
    result
}
