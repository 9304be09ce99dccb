//! The process-wide caches under several threads at once: each thread does a request's
//! reading work in a loop (`get_claims()` over one of 64 sessions, every one of them
//! already in the decoded-session cache and the verified-token cache), and the time
//! reported is for `iters` requests on *each* thread. With no contention the time stays
//! the same from 1 thread to as many threads as there are cores; a lock that every
//! request takes makes it grow.
//!
//! `cargo bench -p supabase-ssr --bench contention`
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use supabase_auth_emulator::{Emulator, EmulatorConfig};
use supabase_ssr::SupabaseAuth;
use supabase_ssr::cookies::CookieJar;

/// Distinct sessions (distinct cookies and access tokens) the threads go through.
const POOL: usize = 64;

struct Setup {
    /// Keeps the emulator (and so the JWKS endpoint) alive.
    _emulator: Emulator,
    auth: SupabaseAuth,
    /// The `Cookie` headers of `POOL` sessions.
    pool: Vec<String>,
}

async fn setup() -> Setup {
    let emulator = EmulatorConfig::default().start().await.unwrap();
    emulator
        .create_user("bench@example.com", "bench-password")
        .await
        .unwrap();
    let auth = SupabaseAuth::builder(emulator.url(), emulator.publishable_key())
        .build()
        .unwrap();
    let jar = Arc::new(CookieJar::default());
    auth.server_client(jar.clone())
        .sign_in_with_password("bench@example.com", "bench-password")
        .await
        .unwrap();
    let refreshing = auth.server_client(jar.clone());
    let mut pool = Vec::new();
    for _ in 0..POOL {
        // A second later each time, so every access token differs.
        emulator.advance_clock(Duration::from_secs(1));
        refreshing.refresh_session().await.unwrap();
        pool.push(jar.cookie_header());
    }
    // Every session read and verified once: from now on, every call is a hit of both.
    for cookie_header in &pool {
        let claims = auth
            .server_client(CookieJar::from_cookie_header(cookie_header))
            .get_claims()
            .await
            .unwrap();
        assert!(claims.is_some());
    }
    Setup {
        _emulator: emulator,
        auth,
        pool,
    }
}

/// `iters` requests on each of `threads` threads, all released at once; the time until
/// the last one is done.
fn run(setup: &Setup, threads: usize, iters: u64) -> Duration {
    let barrier = Barrier::new(threads + 1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                scope.spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .build()
                        .unwrap();
                    barrier.wait();
                    for i in 0..iters {
                        let n = (i as usize + t * (POOL / threads.max(1))) % POOL;
                        let client = setup
                            .auth
                            .server_client(CookieJar::from_cookie_header(&setup.pool[n]));
                        black_box(runtime.block_on(client.get_claims()).unwrap());
                    }
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        for worker in workers {
            worker.join().unwrap();
        }
        start.elapsed()
    })
}

fn contention(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let setup = runtime.block_on(setup());
    let mut group = c.benchmark_group("cached_get_claims_per_thread");
    for threads in [1, 2, 4] {
        group.bench_function(format!("{threads}_threads"), |b| {
            b.iter_custom(|iters| run(&setup, threads, iters));
        });
    }
    group.finish();
}

criterion_group!(benches, contention);
criterion_main!(benches);
