//! `bench rls`: transactions/s of a read scoped to a user (`RlsPool::begin`, then one
//! select that row-level security filters, then `COMMIT`) against the same transaction
//! without the context (`pool.begin()`, the same select, `COMMIT`), on one pool; and how
//! many statements and round trips each sends, read off the wire.
//!
//! Against a throwaway PostgreSQL (or a database of its own on the server of
//! `DATABASE_URL`, dropped at the end) with `SUPABASE_BOOTSTRAP_SQL` and the example
//! `notes` table, seeded with 1,000 notes across 10 users.

mod count;
mod database;
mod drive;

use count::count_statements;
use database::{Database, Server, pool_options};
use drive::{Rate, backends, drive};

use std::str::FromStr as _;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection as _, PgConnection, PgPool};
use supabase_auth_emulator::EmulatorConfig;
use supabase_ssr::VerifiedClaims;
use supabase_ssr_postgres::{DbIdentity, RlsPool, SUPABASE_BOOTSTRAP_SQL};
use throwaway_postgres::ThrowawayPostgres;
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::Options;
use crate::common::{median, sign_in};
use crate::rounds::{self, Paired, ratio, verdict};
use crate::wire::{RoundTrip, Tap};

/// The example table, with its policies.
const NOTES_SQL: &str = include_str!("../../../supabase-ssr-postgres/sql/notes_example.sql");

/// The scoped read. No `where`: row-level security keeps the user's own rows.
const SELECT: &str = "select id, user_id, body from notes order by id limit 20";
/// The same read without the context: as the pool's role (which bypasses RLS) a server
/// has to ask for the user's rows itself. Same rows, same plan (the primary key, filtered
/// on `user_id`), so the two differ only by how the user is applied.
const SELECT_OWN: &str =
    "select id, user_id, body from notes where user_id = $1 order by id limit 20";
const LIMIT: usize = 20;

/// 1,000 notes, one in ten the signed-in user's (`$1`), the others spread over 9 more
/// users; bodies of 56 to 59 characters.
const SEED: &str = "insert into public.notes (user_id, body)
    select case when g % 10 = 0 then $1::text::uuid
                else md5('bench user ' || (g % 10))::uuid end,
           'note ' || g || ': ' || repeat('lorem ipsum ', 4)
    from generate_series(1, 1000) as g";

/// The advisory lock the crate's tests take around the bootstrap on a shared server:
/// roles are server-wide, and two concurrent `create role` on them can fail.
const BOOTSTRAP_LOCK: i64 = 0x5b55_5253_5250_4731;

/// The statement `RlsPool::begin` sends after `BEGIN` (`crates/supabase-ssr-postgres/src/
/// pool.rs`), for the diagnostic workload: the same text, so the same cached statement.
const SET_CONTEXT: &str = "select set_config('request.jwt.claims', $1, true), \
     set_config('request.jwt.claim.sub', $2, true), set_config('role', $3, true)";

type Note = (i64, Uuid, String);

/// The workloads, in the order they take turns within a round.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Workload {
    /// `RlsPool::begin(&identity)`, the select, commit.
    Scoped,
    /// `pool.begin()`, the select with `where user_id = $1`, commit: the same
    /// transaction, returning the same rows, without the context.
    Baseline,
    /// `Scoped` on a pool with sqlx's statement cache off.
    ScopedUncached,
    /// Diagnostic: `Baseline` plus the context statement with the user's claims but the
    /// pool's own role, which row-level security does not apply to. Its cost over
    /// `Baseline` is the context's round trip alone; `Scoped`'s over it, what the
    /// policy costs the select over the explicit `where`.
    ContextNoRls,
}

const WORKLOADS: [Workload; 4] = [
    Workload::Scoped,
    Workload::Baseline,
    Workload::ScopedUncached,
    Workload::ContextNoRls,
];

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::Scoped => "scoped: RlsPool::begin, select, commit",
            Workload::Baseline => "baseline: pool.begin, select ... where user_id = $1, commit",
            Workload::ScopedUncached => "scoped, statement cache off",
            Workload::ContextNoRls => "diagnostic: context as the pool's role (no RLS)",
        }
    }

    fn short(self) -> &'static str {
        match self {
            Workload::Scoped => "scoped",
            Workload::Baseline => "baseline",
            Workload::ScopedUncached => "scoped, cache off",
            Workload::ContextNoRls => "context, no RLS",
        }
    }
}

/// The pools the workloads run on; `Scoped` and `Baseline` share one.
struct Pools {
    pool: PgPool,
    /// The signed-in user, whose rows every workload reads.
    owner: Uuid,
    rls: RlsPool,
    /// `statement_cache_capacity(0)`, as behind Supabase's transaction pooler.
    uncached: RlsPool,
    identity: DbIdentity,
    /// The role the pools connect as (`postgres` on a throwaway server).
    pool_role: String,
}

impl Pools {
    async fn new(
        pool: PgPool,
        uncached: PgPool,
        identity: DbIdentity,
        owner: Uuid,
    ) -> Result<Self, String> {
        let pool_role = sqlx::query_scalar("select current_user::text")
            .fetch_one(&pool)
            .await
            .map_err(|e| format!("pool role: {e}"))?;
        Ok(Self {
            rls: RlsPool::new(pool.clone()),
            pool,
            owner,
            uncached: RlsPool::new(uncached),
            identity,
            pool_role,
        })
    }

    async fn close(&self) {
        self.pool.close().await;
        self.uncached.bypass_rls_pool().close().await;
    }

    /// One transaction of `workload`; its rows.
    async fn transaction(&self, workload: Workload) -> Result<Vec<Note>, String> {
        let e = |e: &dyn std::fmt::Display| format!("{}: {e}", workload.name());
        let rows = match workload {
            Workload::Baseline => {
                let mut tx = self.pool.begin().await.map_err(|x| e(&x))?;
                let rows = select_own(&mut tx, self.owner).await.map_err(|x| e(&x))?;
                tx.commit().await.map_err(|x| e(&x))?;
                rows
            }
            Workload::Scoped | Workload::ScopedUncached => {
                let pool = if workload == Workload::Scoped {
                    &self.rls
                } else {
                    &self.uncached
                };
                let mut tx = pool.begin(&self.identity).await.map_err(|x| e(&x))?;
                let rows = select(&mut tx).await.map_err(|x| e(&x))?;
                tx.commit().await.map_err(|x| e(&x))?;
                rows
            }
            Workload::ContextNoRls => {
                let mut tx = self.pool.begin().await.map_err(|x| e(&x))?;
                sqlx::query(SET_CONTEXT)
                    .bind(self.identity.claims_json())
                    .bind(self.owner.to_string())
                    .bind(&self.pool_role)
                    .execute(&mut *tx)
                    .await
                    .map_err(|x| e(&x))?;
                let rows = select_own(&mut tx, self.owner).await.map_err(|x| e(&x))?;
                tx.commit().await.map_err(|x| e(&x))?;
                rows
            }
        };
        if rows.len() != LIMIT {
            return Err(e(&format!("{} rows, not {LIMIT}", rows.len())));
        }
        Ok(rows)
    }
}

async fn select(conn: &mut PgConnection) -> Result<Vec<Note>, sqlx::Error> {
    sqlx::query_as(SELECT).fetch_all(conn).await
}

async fn select_own(conn: &mut PgConnection, owner: Uuid) -> Result<Vec<Note>, sqlx::Error> {
    sqlx::query_as(SELECT_OWN).bind(owner).fetch_all(conn).await
}

/// The run's settings: `--connections` (pool size and concurrent tasks), `--duration`
/// (seconds per workload per round), `--rounds`, `--quick`.
struct Settings {
    tasks: usize,
    warmup: Duration,
    duration: Duration,
    rounds: usize,
    /// Transactions the statement count runs per workload.
    counted: usize,
}

impl Settings {
    fn new(options: &Options) -> Self {
        let quick = options.quick;
        Self {
            tasks: options.connections.map_or(8, |c| c as usize).max(1),
            warmup: Duration::from_millis(if quick { 250 } else { 1_000 }),
            duration: Duration::from_secs(options.duration_secs.unwrap_or(if quick {
                1
            } else {
                10
            })),
            rounds: options.rounds.unwrap_or(if quick { 1 } else { 5 }).max(1),
            counted: if quick { 20 } else { 200 },
        }
    }
}

pub(crate) async fn run(options: &Options) -> Result<(), String> {
    let settings = Settings::new(options);
    let size = u32::try_from(settings.tasks).map_err(|e| e.to_string())?;
    let setup = Setup::new(size).await?;
    let result = measure(&setup, &settings).await;
    setup.remove().await;
    result
}

/// The signed-in user, the seeded database, and the pools on it.
struct Setup {
    database: Database,
    pools: Arc<Pools>,
    identity: DbIdentity,
    owner: Uuid,
    size: u32,
}

impl Setup {
    /// Signs the user in, creates and seeds the database, opens pools of `size`
    /// connections and checks what each workload returns.
    async fn new(size: u32) -> Result<Setup, String> {
        let claims = signed_in_claims().await?;
        let identity = DbIdentity::from_claims(&claims).map_err(|e| e.to_string())?;
        let owner: Uuid = claims
            .sub
            .as_deref()
            .and_then(|s| s.parse().ok())
            .ok_or("the claims carry no uuid sub")?;
        let database = Database::create(owner).await?;
        let pools = async {
            let pools = Pools::new(
                database.pool(size, true).await?,
                database.pool(size, false).await?,
                identity.clone(),
                owner,
            )
            .await?;
            check(&pools, owner).await?;
            Ok::<_, String>(pools)
        }
        .await;
        match pools {
            Ok(pools) => Ok(Setup {
                database,
                pools: Arc::new(pools),
                identity,
                owner,
                size,
            }),
            Err(error) => {
                database.remove().await;
                Err(error)
            }
        }
    }

    async fn remove(self) {
        self.pools.close().await;
        self.database.remove().await;
    }
}

/// The benchmark user's verified claims, from a sign-in at the emulator.
async fn signed_in_claims() -> Result<VerifiedClaims, String> {
    let emulator = EmulatorConfig::default()
        .start()
        .await
        .map_err(|e| format!("emulator: {e}"))?;
    let signed_in = sign_in(&emulator).await;
    let claims = match signed_in {
        Ok(s) => s
            .auth
            .server_client(s.jar)
            .get_claims()
            .await
            .map_err(|e| e.to_string())
            .and_then(|c| c.ok_or_else(|| "no claims after sign-in".to_owned())),
        Err(e) => Err(e),
    };
    emulator.shutdown().await;
    claims
}

async fn measure(setup: &Setup, settings: &Settings) -> Result<(), String> {
    let Setup {
        database,
        pools,
        identity,
        owner,
        size,
    } = setup;
    let (count, slice) = rounds::slices(settings.duration);
    println!(
        "\n## rls: {} concurrent tasks on one pool of {size} connections, {}s per workload per round in {count} alternating slice(s), {} round(s)",
        settings.tasks,
        settings.duration.as_secs(),
        settings.rounds,
    );
    let mut table: Vec<Vec<Rate>> = WORKLOADS.iter().map(|_| Vec::new()).collect();
    for round in 0..settings.rounds {
        for workload in WORKLOADS {
            drive(pools, workload, settings.tasks, settings.warmup, &[]).await?;
        }
        // After the warm-up every pooled connection is open.
        let backends = backends(database, &pools.pool).await?;
        let parts = rounds::alternate(WORKLOADS.len(), count, |i| {
            drive(pools, WORKLOADS[i], settings.tasks, slice, &backends)
        })
        .await?;
        for ((workload, column), part) in WORKLOADS.iter().zip(table.iter_mut()).zip(parts) {
            let rate = Rate::merge(&part);
            eprintln!(
                "round {}: {:<40} {:>10.0} transactions/s",
                round + 1,
                workload.name(),
                rate.per_sec()
            );
            column.push(rate);
        }
    }

    let rates: Vec<Vec<f64>> = table
        .iter()
        .map(|column| column.iter().map(|r| r.per_sec()).collect())
        .collect();
    let medians: Vec<f64> = rates.iter().map(|r| median(&mut r.clone())).collect();
    // CPU time per transaction, the median round of each.
    let cpu: Vec<(f64, Option<f64>)> = table
        .iter()
        .map(|column| {
            let mut client: Vec<f64> = column.iter().map(|r| r.cpu_us().0).collect();
            let mut server: Vec<f64> = column.iter().filter_map(|r| r.cpu_us().1).collect();
            let server = (!server.is_empty()).then(|| median(&mut server));
            (median(&mut client), server)
        })
        .collect();
    let us = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.1}"));
    println!(
        "\n| workload | transactions/s | client CPU per transaction (µs) | server CPU per transaction (µs) |"
    );
    println!("|---|---:|---:|---:|");
    for ((workload, m), (client, server)) in WORKLOADS.iter().zip(&medians).zip(&cpu) {
        println!(
            "| {} | {m:.0} | {client:.1} | {} |",
            workload.name(),
            us(*server)
        );
    }
    // Per round: the baseline, then each other workload and its ratio to the baseline
    // (they ran in alternating slices).
    let others = [0, 2, 3];
    let header: Vec<String> = others
        .iter()
        .map(|&i| format!(" {0} | {0} / baseline |", WORKLOADS[i].short()))
        .collect();
    println!("\n| round | baseline |{}", header.concat());
    println!("|---:|---:|{}", "---:|---:|".repeat(others.len()));
    for (round, base) in rates[1].iter().enumerate() {
        let cells: Vec<String> = others
            .iter()
            .map(|&i| {
                let rate = rates[i].get(round).copied().unwrap_or(f64::NAN);
                format!(" {rate:.0} | {:.3} |", ratio(rate, *base))
            })
            .collect();
        println!("| {} | {base:.0} |{}", round + 1, cells.concat());
    }
    println!();
    let met = Paired::new(&rates[1], &rates[0]).print_target(
        "scoped / baseline",
        ratio(medians[0], medians[1]),
        0.75,
    );
    for i in [2, 3] {
        println!(
            "{} / baseline = {:.3} (medians of the columns); median of the per-round ratios {:.3} (no target)",
            WORKLOADS[i].short(),
            ratio(medians[i], medians[1]),
            Paired::new(&rates[1], &rates[i]).median
        );
    }

    // Where the scoped transaction's time goes: CPU per transaction over the baseline,
    // split at the diagnostic workload (the context's round trip, then the policy).
    let diff = |a: usize, b: usize| {
        let ((a_client, a_server), (b_client, b_server)) = (cpu[a], cpu[b]);
        let server = a_server
            .zip(b_server)
            .map_or_else(|| "n/a".to_owned(), |(a, b)| format!("{:+.1}", a - b));
        format!("client {:+.1} µs, server {server} µs", a_client - b_client)
    };
    println!(
        "CPU per transaction (medians of the rounds): scoped - baseline: {}; of which the context's round trip (context, no RLS - baseline): {}; the policy on the select (scoped - context, no RLS): {}",
        diff(0, 1),
        diff(3, 1),
        diff(0, 3)
    );

    let one_round_trip = count_statements(database, identity, *owner, settings.counted).await?;
    if !met {
        eprintln!("bench rls: the throughput target was missed (see above)");
    }
    if one_round_trip {
        Ok(())
    } else {
        Err("the context did not cost exactly one statement and one round trip".into())
    }
}

/// What each workload returns, before anything is measured: the same rows, all the
/// user's.
async fn check(pools: &Pools, owner: Uuid) -> Result<(), String> {
    let mut first = None;
    for workload in WORKLOADS {
        let rows = pools.transaction(workload).await?;
        let own = rows.iter().filter(|(_, user, _)| *user == owner).count();
        let same = first.get_or_insert_with(|| rows.clone()) == &rows;
        if own != rows.len() || !same {
            return Err(format!(
                "{}: {own} of {} rows are the user's",
                workload.name(),
                rows.len()
            ));
        }
    }
    Ok(())
}

/// `bench instr scoped|baseline|uncached|context N`: N transactions of one workload, one after
/// the other on a pool of one connection, for callgrind. Only this process is counted
/// (the client: the pool, sqlx, `RlsPool`), not the server's.
pub(crate) fn instr(workload: &str, iterations: u64) -> Result<(), String> {
    let workload = match workload {
        "scoped" => Workload::Scoped,
        "baseline" => Workload::Baseline,
        "uncached" => Workload::ScopedUncached,
        "context" => Workload::ContextNoRls,
        other => return Err(format!("unknown workload {other}")),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let setup = runtime.block_on(Setup::new(1))?;
    let failures = measured_loop(&runtime, &setup.pools, workload, iterations);
    runtime.block_on(setup.remove());
    if failures > 0 {
        return Err(format!("{failures} transactions failed"));
    }
    println!("instr: {iterations} transactions done");
    Ok(())
}

/// The only code callgrind counts (`--toggle-collect='*measured_loop*'`).
#[inline(never)]
fn measured_loop(
    runtime: &tokio::runtime::Runtime,
    pools: &Pools,
    workload: Workload,
    iterations: u64,
) -> u64 {
    runtime.block_on(async {
        let mut failures = 0;
        for _ in 0..iterations {
            failures += u64::from(pools.transaction(workload).await.is_err());
        }
        failures
    })
}
