//! `bench rls`: transactions/s of a read scoped to a user (`RlsPool::begin`, then one
//! select that row-level security filters, then `COMMIT`) against the same transaction
//! without the context (`pool.begin()`, the same select, `COMMIT`), on one pool; and how
//! many statements and round trips each sends, read off the wire.
//!
//! Against a throwaway PostgreSQL (or a database of its own on the server of
//! `DATABASE_URL`, dropped at the end) with `SUPABASE_BOOTSTRAP_SQL` and the example
//! `notes` table, seeded with 1,000 notes across 10 users.

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
const NOTES_SQL: &str = include_str!("../../supabase-ssr-postgres/sql/notes_example.sql");

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

/// Transactions completed, the time they took, and the CPU time they cost: this
/// process's (the client: the tasks and sqlx) and the server's (its backends).
#[derive(Clone, Copy, Default)]
struct Rate {
    transactions: u64,
    elapsed: Duration,
    client_ns: u64,
    /// `None` when the server's processes are not known (a `DATABASE_URL` server).
    server_ns: Option<u64>,
}

impl Rate {
    fn per_sec(self) -> f64 {
        self.transactions as f64 / self.elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
    }

    /// Client and server CPU time per transaction, in µs.
    fn cpu_us(self) -> (f64, Option<f64>) {
        let per = |ns: u64| ns as f64 / 1_000.0 / self.transactions.max(1) as f64;
        (per(self.client_ns), self.server_ns.map(per))
    }

    fn merge(parts: &[Rate]) -> Rate {
        Rate {
            transactions: parts.iter().map(|r| r.transactions).sum(),
            elapsed: parts.iter().map(|r| r.elapsed).sum(),
            client_ns: parts.iter().map(|r| r.client_ns).sum(),
            server_ns: parts.iter().map(|r| r.server_ns).sum(),
        }
    }
}

/// CPU time used so far, in ns, by the threads of process `pid` (`self` for this one),
/// from the scheduler's statistics (`/proc/PID/task/TID/schedstat`).
fn cpu_ns(pid: &str) -> Option<u64> {
    let mut total = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .ok()?
        .flatten()
    {
        let stat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

/// The server's backends serving our pools, when the server runs here (a throwaway
/// one); empty otherwise.
async fn backends(database: &Database, pool: &PgPool) -> Result<Vec<String>, String> {
    if !matches!(database.server, Server::Throwaway(_)) {
        return Ok(Vec::new());
    }
    let pids: Vec<i32> = sqlx::query_scalar(
        "select pid from pg_stat_activity
         where datname = current_database() and backend_type = 'client backend'",
    )
    .fetch_all(pool)
    .await
    .map_err(|e| format!("backends: {e}"))?;
    Ok(pids.iter().map(i32::to_string).collect())
}

/// CPU time of this process, and of `backends` (`None` when there are none).
fn cpu_now(backends: &[String]) -> (u64, Option<u64>) {
    let server =
        (!backends.is_empty()).then(|| backends.iter().filter_map(|pid| cpu_ns(pid)).sum());
    (cpu_ns("self").unwrap_or(0), server)
}

/// `tasks` tasks run `workload`'s transactions back to back for `span`.
async fn drive(
    pools: &Arc<Pools>,
    workload: Workload,
    tasks: usize,
    span: Duration,
    backends: &[String],
) -> Result<Rate, String> {
    let (client_before, server_before) = cpu_now(backends);
    let started = Instant::now();
    let deadline = started + span;
    let mut set = JoinSet::new();
    for _ in 0..tasks {
        let pools = pools.clone();
        set.spawn(async move {
            let mut done = 0u64;
            while Instant::now() < deadline {
                pools.transaction(workload).await?;
                done += 1;
            }
            Ok::<_, String>(done)
        });
    }
    let collect = async {
        let mut transactions = 0;
        while let Some(joined) = set.join_next().await {
            transactions += joined.map_err(|e| e.to_string())??;
        }
        Ok::<_, String>(transactions)
    };
    // Bounded: a transaction stuck for 30 s past the slice fails the run (dropping the
    // set aborts the tasks).
    let transactions = tokio::time::timeout(span + Duration::from_secs(30), collect)
        .await
        .map_err(|_| format!("{}: did not finish in time", workload.name()))??;
    let elapsed = started.elapsed();
    let (client_after, server_after) = cpu_now(backends);
    Ok(Rate {
        transactions,
        elapsed,
        client_ns: client_after.saturating_sub(client_before),
        server_ns: server_after
            .zip(server_before)
            .map(|(after, before)| after.saturating_sub(before)),
    })
}

/// The database the benchmark runs against, removed at the end.
enum Server {
    Throwaway(ThrowawayPostgres),
    /// `DATABASE_URL`: our database `name` on it.
    Shared {
        admin_url: String,
        name: String,
    },
}

struct Database {
    server: Server,
    options: PgConnectOptions,
}

impl Database {
    /// A fresh database with the bootstrap, the `notes` table and its seed.
    async fn create(owner: Uuid) -> Result<Database, String> {
        let e = |e: sqlx::Error| format!("database: {e}");
        let database = match std::env::var("DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let secs = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let name = format!("bench_rls_{}_{secs}", std::process::id());
                let mut admin = PgConnection::connect(&admin_url).await.map_err(e)?;
                sqlx::raw_sql(AssertSqlSafe(format!("create database {name}")))
                    .execute(&mut admin)
                    .await
                    .map_err(e)?;
                admin.close().await.map_err(e)?;
                let options = PgConnectOptions::from_str(&admin_url)
                    .map_err(e)?
                    .database(&name);
                Database {
                    server: Server::Shared { admin_url, name },
                    options,
                }
            }
            _ => {
                let server = tokio::task::spawn_blocking(ThrowawayPostgres::start)
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| format!("throwaway PostgreSQL: {e}"))?;
                let options = PgConnectOptions::from_str(server.url()).map_err(e)?;
                Database {
                    server: Server::Throwaway(server),
                    options,
                }
            }
        };
        if let Err(error) = database.seed(owner).await {
            database.remove().await;
            return Err(error);
        }
        Ok(database)
    }

    async fn seed(&self, owner: Uuid) -> Result<(), String> {
        let e = |e: sqlx::Error| format!("seeding the database: {e}");
        let lock = match &self.server {
            Server::Shared { admin_url, .. } => {
                let mut admin = PgConnection::connect(admin_url).await.map_err(e)?;
                sqlx::query("select pg_advisory_lock($1)")
                    .bind(BOOTSTRAP_LOCK)
                    .execute(&mut admin)
                    .await
                    .map_err(e)?;
                Some(admin)
            }
            Server::Throwaway(_) => None,
        };
        let mut conn = PgConnection::connect_with(&self.options).await.map_err(e)?;
        let bootstrapped = sqlx::raw_sql(SUPABASE_BOOTSTRAP_SQL)
            .execute(&mut conn)
            .await;
        if let Some(lock) = lock {
            // Closing the session releases the lock.
            lock.close().await.map_err(e)?;
        }
        bootstrapped.map_err(e)?;
        sqlx::raw_sql(NOTES_SQL)
            .execute(&mut conn)
            .await
            .map_err(e)?;
        sqlx::query(SEED)
            .bind(owner.to_string())
            .execute(&mut conn)
            .await
            .map_err(e)?;
        sqlx::raw_sql("analyze public.notes")
            .execute(&mut conn)
            .await
            .map_err(e)?;
        conn.close().await.map_err(e)
    }

    async fn pool(&self, size: u32, statement_cache: bool) -> Result<PgPool, String> {
        let options = if statement_cache {
            self.options.clone()
        } else {
            self.options.clone().statement_cache_capacity(0)
        };
        pool_options(size)
            .connect_with(options)
            .await
            .map_err(|e| format!("pool: {e}"))
    }

    /// Stops the throwaway server (removing its directory), or drops our database.
    async fn remove(self) {
        match self.server {
            Server::Throwaway(server) => {
                let _ = tokio::task::spawn_blocking(move || server.stop()).await;
            }
            Server::Shared { admin_url, name } => {
                let dropped = async {
                    let mut admin = PgConnection::connect(&admin_url).await?;
                    sqlx::raw_sql(AssertSqlSafe(format!(
                        "drop database if exists {name} with (force)"
                    )))
                    .execute(&mut admin)
                    .await?;
                    admin.close().await
                };
                if let Err(error) = dropped.await {
                    eprintln!("bench rls: could not drop the database {name}: {error}");
                }
            }
        }
    }
}

/// sqlx's defaults (the liveness check before each acquire included), `size`
/// connections, all opened before the first measure.
fn pool_options(size: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(size)
        .min_connections(size)
        .acquire_timeout(Duration::from_secs(10))
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

/// Runs `n` transactions of each workload, one after the other, on a pool of one
/// connection through a wire tap, and prints what each transaction sent. Returns whether
/// the scoped transaction cost exactly one statement and one round trip more than the
/// baseline.
async fn count_statements(
    database: &Database,
    identity: &DbIdentity,
    owner: Uuid,
    n: usize,
) -> Result<bool, String> {
    let (tap, options) = Tap::start(&database.options)?;
    let connect = |cache: bool| {
        let options = if cache {
            options.clone()
        } else {
            options.clone().statement_cache_capacity(0)
        };
        pool_options(1).connect_with(options)
    };
    let e = |e: sqlx::Error| format!("pool through the tap: {e}");
    let pools = Pools::new(
        connect(true).await.map_err(e)?,
        connect(false).await.map_err(e)?,
        identity.clone(),
        owner,
    )
    .await?;
    // Warm: statements prepared and types resolved, as in the measured runs.
    check(&pools, owner).await?;
    let both = [&pools.pool, pools.uncached.bypass_rls_pool()];
    let mut counted = Vec::new();
    for workload in [
        Workload::Scoped,
        Workload::Baseline,
        Workload::ScopedUncached,
    ] {
        // Both pools' connections write to the one log: start and end with both idle,
        // once the check each connection runs on release is done.
        idle(&both).await?;
        let start = tap.len();
        for _ in 0..n {
            pools.transaction(workload).await?;
        }
        idle(&both).await?;
        counted.push(PerTransaction::new(&tap.since(start), n));
    }
    pools.close().await;
    drop(tap);

    let [scoped, baseline, uncached] = [&counted[0], &counted[1], &counted[2]];
    println!(
        "\nstatements per transaction: scoped {}, baseline {}; with the statement cache off, scoped {}",
        scoped.statements(),
        baseline.statements(),
        uncached.statements()
    );
    println!(
        "round trips per transaction: scoped {}, baseline {}; with the statement cache off, scoped {}",
        scoped.round_trips(),
        baseline.round_trips(),
        uncached.round_trips()
    );
    println!(
        "(read off the wire through a tap, {n} transactions each on a pool of one connection; \"check\" is sqlx's liveness check of a pooled connection, a bare Sync, on acquire and on release)"
    );
    let one = scoped.statement_count == baseline.statement_count + 1.0
        && scoped.round_trip_count == baseline.round_trip_count + 1.0;
    println!(
        "the context costs exactly one statement and one round trip: {}",
        verdict(one)
    );
    Ok(one)
}

/// Waits (bounded) until every connection of `pools` is back in its pool.
async fn idle(pools: &[&PgPool]) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while pools.iter().any(|p| p.num_idle() < p.size() as usize) {
        if Instant::now() > deadline {
            return Err("a pooled connection did not come back".into());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(())
}

/// The round trips of `n` transactions, per transaction.
struct PerTransaction {
    statement_count: f64,
    round_trip_count: f64,
    /// What one transaction's round trips carried, when all `n` sent the same.
    shape: Option<Vec<String>>,
}

impl PerTransaction {
    fn new(round_trips: &[RoundTrip], n: usize) -> Self {
        let n = n.max(1);
        let statements: usize = round_trips.iter().map(|r| r.executed.len()).sum();
        let shape = round_trips
            .len()
            .is_multiple_of(n)
            .then(|| round_trips.chunks(round_trips.len() / n))
            .and_then(|mut chunks| {
                let first = chunks.next()?;
                chunks.all(|c| c == first).then_some(first)
            })
            .map(|first| first.iter().map(describe).collect());
        Self {
            statement_count: statements as f64 / n as f64,
            round_trip_count: round_trips.len() as f64 / n as f64,
            shape,
        }
    }

    /// `4 (BEGIN, context, select, COMMIT)`.
    fn statements(&self) -> String {
        let names: Option<Vec<&str>> = self.shape.as_ref().map(|shape| {
            shape
                .iter()
                .filter(|s| !s.starts_with("check") && !s.starts_with("prepare "))
                .map(String::as_str)
                .collect()
        });
        with_names(self.statement_count, names)
    }

    /// `6 (check, BEGIN, context, select, COMMIT, check)`.
    fn round_trips(&self) -> String {
        let names = self
            .shape
            .as_ref()
            .map(|s| s.iter().map(String::as_str).collect());
        with_names(self.round_trip_count, names)
    }
}

fn with_names(count: f64, names: Option<Vec<&str>>) -> String {
    match names {
        Some(names) => format!("{count} ({})", names.join(", ")),
        None => format!("{count:.2} (not the same in every transaction)"),
    }
}

/// A round trip in a word: the statement it ran (`BEGIN`, `context`, `select`,
/// `COMMIT`), `prepare …` when it only parsed, `check` when it carried nothing.
fn describe(round_trip: &RoundTrip) -> String {
    let name = |sql: &String| {
        let sql = sql.trim();
        if sql.contains("set_config('request.jwt.claims'") {
            "context".to_owned()
        } else if sql == SELECT || sql == SELECT_OWN {
            "select".to_owned()
        } else {
            sql.chars().take(24).collect()
        }
    };
    let executed: Vec<String> = round_trip.executed.iter().map(name).collect();
    if !executed.is_empty() {
        return executed.join(" + ");
    }
    let prepared: Vec<String> = round_trip.prepared.iter().map(name).collect();
    if !prepared.is_empty() {
        return format!("prepare {}", prepared.join(" + "));
    }
    "check".to_owned()
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
