//! `bench memory`: resident size while a stream of distinct, valid access tokens goes
//! through verification (each once as a miss, once as a hit). The tokens are signed with
//! a key of our own, published in a JWKS served on 127.0.0.1; the verified-token cache
//! has its default size, so it fills early and must then stay flat.
//!
//! `bench memory --sessions`: the same stream as session cookies, each read twice through
//! `get_session` (the decoded-session cache at its default size, then a hit).
//!
//! `bench memory --http`: the same stream of session cookies sent over HTTP to a server
//! process of its own, whose resident size is read from `/proc`.

use std::time::{Duration, Instant};

use supabase_ssr::SupabaseAuth;
use supabase_ssr::cookies::CookieJar;

use crate::Options;
use crate::charts::Chart;
use crate::common::rss_kib;
use crate::load::Load;
use crate::rounds::verdict;
use crate::signer::TestProject;
use crate::wrk::Header;

const WORKERS: u64 = 2;

/// `--http`: concurrent requests, each on its own connection.
const HTTP_CLIENTS: u64 = 8;

/// The library's default size of both caches (`session_cache`, `verified_token_cache`).
const DEFAULT_CACHE_ENTRIES: u64 = 16_384;

pub(crate) async fn run(options: &Options) -> Result<(), String> {
    let total = options
        .tokens
        .unwrap_or(if options.quick { 70_000 } else { 1_000_000 });
    if options.http {
        return run_http(options, total).await;
    }
    let project = TestProject::start().await?;
    let builder = SupabaseAuth::builder(project.url.clone(), TestProject::KEY);
    let builder = if options.no_token_cache {
        builder.disable_verified_token_cache()
    } else {
        builder
    };
    let auth = builder.build().map_err(|e| e.to_string())?;
    let signer = project.signer.clone();

    if options.sessions {
        println!(
            "\n## memory: {total} distinct session cookies, each read twice through get_session (miss, then hit), decoded-session cache at its default size ({DEFAULT_CACHE_ENTRIES} entries)"
        );
    } else {
        println!(
            "\n## memory: {total} distinct valid ES256 tokens, each verified twice (miss, then hit), {}",
            if options.no_token_cache {
                "verified-token cache off"
            } else {
                "verified-token cache at its default size (16,384 entries)"
            }
        );
    }
    let (count, first) = if options.sessions {
        ("session cookies read", "first read")
    } else {
        ("tokens verified", "first verification")
    };
    println!(
        "\n| {count} | VmRSS (MiB) | VmHWM (MiB) | seconds | {first} (µs, mean) | second, cache hit (µs, mean) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    let (rss0, hwm0) = rss_kib();
    println!("| 0 | {:.1} | {:.1} | 0 | | |", mib(rss0), mib(hwm0));
    let (checkpoints, baseline_at) = checkpoints(total);
    let mut track = RssTrack::start(baseline_at, rss0);
    let started = Instant::now();
    let mut done = 0;
    for checkpoint in checkpoints {
        let mut workers = Vec::new();
        for w in 0..WORKERS {
            let (auth, signer) = (auth.clone(), signer.clone());
            let sessions = options.sessions;
            let range = done..checkpoint;
            workers.push(tokio::spawn(async move {
                // Time spent in the first (miss) and second (hit) verification.
                let mut spent = [Duration::ZERO; 2];
                for n in range.filter(|n| n % WORKERS == w) {
                    let token = signer.token(n)?;
                    let cookie = sessions.then(|| signer.session_cookie(&token, n));
                    for slot in &mut spent {
                        let started = Instant::now();
                        let fail = |e: supabase_ssr::AuthError| format!("token {n}: {e}");
                        if let Some(cookie) = &cookie {
                            auth.server_client(CookieJar::from_cookie_header(cookie))
                                .get_session()
                                .await
                                .map_err(fail)?
                                .ok_or_else(|| format!("token {n}: no session read"))?;
                        } else {
                            auth.server_client(CookieJar::default())
                                .verify_token(&token)
                                .await
                                .map_err(fail)?;
                        }
                        *slot += started.elapsed();
                    }
                }
                Ok::<_, String>(spent)
            }));
        }
        let mut spent = [Duration::ZERO; 2];
        for worker in workers {
            let [miss, hit] = worker.await.map_err(|e| e.to_string())??;
            spent[0] += miss;
            spent[1] += hit;
        }
        let count = (checkpoint - done) as f64;
        let per_token_us = |d: Duration| d.as_secs_f64() * 1e6 / count;
        done = checkpoint;
        let (rss, hwm) = rss_kib();
        println!(
            "| {checkpoint} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            mib(rss),
            mib(hwm),
            started.elapsed().as_secs_f64(),
            per_token_us(spent[0]),
            per_token_us(spent[1]),
        );
        track.record(checkpoint, rss);
    }
    project.stop();
    track.print_growth(&format!("VmRSS after {total} tokens"), "cache full");
    let (name, what, series) = match (options.sessions, options.no_token_cache) {
        (true, _) => (
            "memory-sessions",
            "distinct session cookies read (get_session, in process)",
            "bench process",
        ),
        (false, false) => (
            "memory-tokens",
            "distinct tokens verified (in process)",
            "bench process, token cache on",
        ),
        (false, true) => (
            "memory-tokens-no-cache",
            "distinct tokens verified (in process)",
            "bench process, token cache off",
        ),
    };
    rss_chart(options, what, series, track.points).save(name, options.quick)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// A run's resident sizes: one point per checkpoint for the chart, and the baseline's
/// and the last for the growth.
struct RssTrack {
    baseline_at: u64,
    baseline: u64,
    last: u64,
    points: Vec<(f64, f64)>,
}

impl RssTrack {
    /// Before the stream: `rss_kib` at 0, the baseline to come at `baseline_at`.
    fn start(baseline_at: u64, rss_kib: u64) -> Self {
        Self {
            baseline_at,
            baseline: 0,
            last: rss_kib,
            points: vec![(0.0, mib(rss_kib))],
        }
    }

    fn record(&mut self, checkpoint: u64, rss_kib: u64) {
        self.points.push((checkpoint as f64, mib(rss_kib)));
        if checkpoint == self.baseline_at {
            self.baseline = rss_kib;
        }
        self.last = rss_kib;
    }

    /// `<what> vs after <baseline> (<full>): +x.x% (target within 10%: met)`.
    fn print_growth(&self, what: &str, full: &str) {
        let growth = if self.baseline > 0 {
            (self.last as f64 - self.baseline as f64) / self.baseline as f64 * 100.0
        } else {
            f64::NAN
        };
        println!(
            "\n{what} vs after {} ({full}): {growth:+.1}% (target within 10%: {})",
            self.baseline_at,
            verdict(growth.abs() <= 10.0)
        );
    }
}

/// Resident memory against the stream's progress.
fn rss_chart(options: &Options, what: &str, series: &str, points: Vec<(f64, f64)>) -> Chart {
    Chart::new(
        "Resident memory over a stream of distinct sessions",
        &format!("cargo run --release -p bench -- memory{}", options.flags()),
        what,
        "VmRSS (MiB)",
    )
    .series(series, points)
}

/// Where RSS is read for a stream of `total`, and which of those is the flatness
/// baseline: the first checkpoint past twice the cache size, where the caches are full
/// and every steady-state allocation has been seen.
fn checkpoints(total: u64) -> (Vec<u64>, u64) {
    let checkpoints: Vec<u64> = [
        10_000, 20_000, 30_000, 50_000, 100_000, 250_000, 500_000, 750_000, 1_000_000,
    ]
    .into_iter()
    .filter(|c| *c < total)
    .chain([total])
    .collect();
    let baseline_at = checkpoints
        .iter()
        .copied()
        .find(|c| *c >= 2 * DEFAULT_CACHE_ENTRIES)
        .unwrap_or(total);
    (checkpoints, baseline_at)
}

/// `bench memory --http`: the server is `bench serve proxy` in a process of its own (one
/// thread, the defaults), and `total` distinct users' session cookies reach it over HTTP,
/// each twice (a miss of both caches, then a hit), from `HTTP_CLIENTS` connections.
/// Reports the server's VmRSS, read from `/proc/PID/status`.
async fn run_http(options: &Options, total: u64) -> Result<(), String> {
    let project = TestProject::start().await?;
    let load = Load::new(options);
    let server = load
        .start_self(
            "axum + SupabaseLayer (ours)",
            &["proxy".into(), project.url.clone(), TestProject::KEY.into()],
        )
        .await?;
    let signer = project.signer.clone();
    server.check(&Header::cookie(signer.session(0)?.1)).await?;
    println!(
        "\n## memory --http: {total} distinct users' session cookies, each sent twice (miss, then hit) over HTTP to `bench serve proxy` (a process of its own, one thread, default caches: {DEFAULT_CACHE_ENTRIES} sessions and {DEFAULT_CACHE_ENTRIES} tokens)"
    );
    println!("\n| sessions | server VmRSS (MiB) | server VmHWM (MiB) | seconds | requests/s |");
    println!("|---:|---:|---:|---:|---:|");
    let (rss0, hwm0) = server.rss_kib();
    println!("| 0 | {:.1} | {:.1} | 0 | |", mib(rss0), mib(hwm0));
    let (checkpoints, baseline_at) = checkpoints(total);
    let mut track = RssTrack::start(baseline_at, rss0);
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut done = 1;
    for checkpoint in checkpoints {
        let since = Instant::now();
        let mut workers = Vec::new();
        for w in 0..HTTP_CLIENTS {
            let (client, signer, url) = (client.clone(), signer.clone(), server.url());
            let range = done..=checkpoint;
            workers.push(tokio::spawn(async move {
                for n in range.filter(|n| n % HTTP_CLIENTS == w) {
                    let cookie = signer.session(n)?.1;
                    for _ in 0..2 {
                        let status = client
                            .get(&url)
                            .header("cookie", &cookie)
                            .send()
                            .await
                            .map_err(|e| format!("session {n}: {e}"))?
                            .status();
                        if status != 200 {
                            return Err(format!("session {n}: answered {status}"));
                        }
                    }
                }
                Ok::<_, String>(())
            }));
        }
        for worker in workers {
            worker.await.map_err(|e| e.to_string())??;
        }
        let sent = 2 * (checkpoint + 1 - done);
        done = checkpoint + 1;
        let (rss, hwm) = server.rss_kib();
        println!(
            "| {checkpoint} | {:.1} | {:.1} | {:.1} | {:.0} |",
            mib(rss),
            mib(hwm),
            started.elapsed().as_secs_f64(),
            sent as f64 / since.elapsed().as_secs_f64()
        );
        track.record(checkpoint, rss);
    }
    server.stop().await;
    project.stop();
    track.print_growth(
        &format!("server VmRSS after {total} sessions"),
        "caches full",
    );
    rss_chart(
        options,
        "distinct users' session cookies sent over HTTP (each twice)",
        "server process (axum + SupabaseLayer)",
        track.points,
    )
    .save("memory-http", options.quick)
}
