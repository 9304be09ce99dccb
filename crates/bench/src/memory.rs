//! `bench memory`: resident size while a stream of distinct, valid access tokens goes
//! through verification (each once as a miss, once as a hit). The tokens are signed with
//! a key of our own, published in a JWKS served on 127.0.0.1; the verified-token cache
//! has its default size, so it fills early and must then stay flat.
//!
//! `bench memory --sessions`: the same stream as session cookies, each read twice through
//! `get_session` (the decoded-session cache at its default size, then a hit).

use std::time::{Duration, Instant};

use supabase_ssr::SupabaseAuth;
use supabase_ssr::cookies::CookieJar;

use crate::Options;
use crate::common::rss_kib;
use crate::rounds::verdict;
use crate::signer::TestProject;

const WORKERS: u64 = 2;

/// The library's default size of both caches (`session_cache`, `verified_token_cache`).
const DEFAULT_CACHE_ENTRIES: u64 = 16_384;

pub(crate) async fn run(options: &Options) -> Result<(), String> {
    let total = options
        .tokens
        .unwrap_or(if options.quick { 70_000 } else { 1_000_000 });
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
    let mib = |kib: u64| kib as f64 / 1024.0;
    let (rss0, hwm0) = rss_kib();
    println!("| 0 | {:.1} | {:.1} | 0 | | |", mib(rss0), mib(hwm0));
    // The first checkpoint past 2x the cache size is where the cache is full and every
    // steady-state allocation has been seen: the flatness baseline.
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
    let started = Instant::now();
    let mut done = 0;
    let mut baseline = 0;
    let mut last = 0;
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
        if checkpoint == baseline_at {
            baseline = rss;
        }
        last = rss;
    }
    project.stop();
    let growth = if baseline > 0 {
        (last as f64 - baseline as f64) / baseline as f64 * 100.0
    } else {
        f64::NAN
    };
    println!(
        "\nVmRSS after {total} tokens vs after {baseline_at} (cache full): {:+.1}% (target within 10%: {})",
        growth,
        verdict(growth.abs() <= 10.0)
    );
    Ok(())
}
