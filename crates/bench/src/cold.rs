//! `bench cold`: latency under load when every request carries a token the server has
//! never seen, so every request is a cache miss: the bare ES256 signature check of a
//! bearer token (the floor), `ApiAuthLayer` with the same bearer tokens, and
//! `SupabaseLayer` with session cookies holding them.
//!
//! The tokens are signed in advance by a project of our own (`signer.rs`) and written
//! one per line; a wrk Lua script reads them in order, so no token comes twice while the
//! file lasts. Every round starts each server afresh (empty caches, its JWKS fetched by
//! one check request with a token outside the file) and runs it alone for `--duration`.

use std::path::{Path, PathBuf};

use crate::Options;
use crate::charts::Chart;
use crate::common::{ScratchDir, has_command};
use crate::load::{Load, Row};
use crate::rounds::ratio;
use crate::signer::TestProject;
use crate::wrk::{Header, WrkResult};

/// One server of the run and the requests it gets.
struct Kind {
    name: &'static str,
    args: Vec<String>,
    /// The header of the check request.
    check: Header,
    script: PathBuf,
}

pub(crate) async fn run(options: &Options) -> Result<(), String> {
    if !has_command("wrk") {
        return Err("wrk is not installed (apt-get install -y wrk)".into());
    }
    let mut load = Load::new(options);
    if options.duration_secs.is_none() && !options.quick {
        load.duration = std::time::Duration::from_secs(5);
    }
    if options.rounds.is_none() && !options.quick {
        load.rounds = 3;
    }
    let tokens = options
        .tokens
        .unwrap_or(if options.quick { 50_000 } else { 250_000 });
    let project = TestProject::start().await?;
    let dir = ScratchDir::new()?;
    let (token_file, cookie_file) = (dir.0.join("tokens.txt"), dir.0.join("cookies.txt"));
    let started = std::time::Instant::now();
    // Users 1 to `tokens` in the files; user 0 for the check requests.
    project
        .signer
        .write_sessions(1..=tokens, Some(&token_file), &cookie_file)?;
    let (check_token, check_cookie) = project.signer.session(0)?;
    eprintln!(
        "signed {tokens} tokens in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let (url, key) = (project.url.clone(), TestProject::KEY.to_owned());
    let kinds = [
        Kind {
            name: "bare ES256 signature check (bearer)",
            args: vec!["bare".into(), url.clone()],
            check: Header::bearer(&check_token),
            script: script(&dir.0, "bare", &token_file, "Authorization", "Bearer ")?,
        },
        Kind {
            name: "axum + ApiAuthLayer (bearer, ours)",
            args: vec!["api".into(), url.clone(), key.clone()],
            check: Header::bearer(&check_token),
            script: script(&dir.0, "api", &token_file, "Authorization", "Bearer ")?,
        },
        Kind {
            name: "axum + SupabaseLayer (cookie, ours)",
            args: vec!["proxy".into(), url, key],
            check: Header::cookie(check_cookie),
            script: script(&dir.0, "proxy", &cookie_file, "Cookie", "")?,
        },
    ];

    load.print_heading(&format!(
        "cold: every request a token the server has not seen ({tokens} signed in advance)"
    ));
    let mut rows: Vec<Row> = kinds
        .iter()
        .map(|k| Row {
            name: k.name,
            rounds: Vec::new(),
        })
        .collect();
    for round in 0..load.rounds {
        for (kind, row) in kinds.iter().zip(rows.iter_mut()) {
            let server = load.start_self(kind.name, &kind.args).await?;
            server.check(&kind.check).await?;
            load.script = Some(kind.script.clone());
            let result = load.measure(round, &server, &kind.check).await;
            server.stop().await;
            let result = result?;
            if result.requests + u64::from(load.connections) >= tokens {
                return Err(format!(
                    "{}: {} requests used up the {tokens} tokens; raise --tokens",
                    kind.name, result.requests
                ));
            }
            row.rounds.push(result);
        }
    }
    project.stop();
    drop(dir);

    crate::load::print_table(&rows);
    println!();
    let (p50, p99) = (|r: &WrkResult| r.p50_ms, |r: &WrkResult| r.p99_ms);
    for row in &rows[1..] {
        println!(
            "{} / bare check: p50 {:.2}x, p99 {:.2}x, requests/s {:.3}",
            row.name,
            ratio(row.pick(p50), rows[0].pick(p50)),
            ratio(row.pick(p99), rows[0].pick(p99)),
            ratio(row.rps(), rows[0].rps()),
        );
    }
    crate::load::no_errors(&rows)?;
    let mut chart = Chart::new(
        "Latency when every token is new to the server (median rounds)",
        &format!("cargo run --release -p bench -- cold{}", options.flags()),
        "percentile",
        "latency (ms)",
    );
    for row in &rows {
        let points = [
            (50.0, row.pick(|r| r.p50_ms)),
            (75.0, row.pick(|r| r.p75_ms)),
            (90.0, row.pick(|r| r.p90_ms)),
            (99.0, row.pick(p99)),
        ];
        chart = chart.series(row.name, points.to_vec());
    }
    chart.save("cold-latency", options.quick)
}

/// A wrk Lua script whose requests carry `header: <prefix><line>`, the lines of `lines`
/// in order (wrk's one thread, so one reader). Past the last line it starts again, which
/// the caller detects from the request count.
fn script(
    dir: &Path,
    name: &str,
    lines: &Path,
    header: &str,
    prefix: &str,
) -> Result<PathBuf, String> {
    let path = dir.join(format!("{name}.lua"));
    std::fs::write(
        &path,
        format!(
            "-- Written by `bench cold`: each request carries the next line of a file, a\n\
             -- token or a session cookie the server has not seen.\n\
             local file\n\
             init = function(args)\n\
             \x20 file = assert(io.open(\"{}\"))\n\
             end\n\
             request = function()\n\
             \x20 local line = file:read(\"*l\")\n\
             \x20 if line == nil then\n\
             \x20   file:seek(\"set\")\n\
             \x20   line = file:read(\"*l\")\n\
             \x20 end\n\
             \x20 return wrk.format(\"GET\", \"/\", {{ [\"{header}\"] = \"{prefix}\" .. line }})\n\
             end\n",
            lines.display()
        ),
    )
    .map_err(|e| e.to_string())?;
    Ok(path)
}
