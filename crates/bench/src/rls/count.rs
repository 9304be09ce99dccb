//! Statements and round trips per transaction, read off the wire through a tap.

use super::*;

/// Runs `n` transactions of each workload, one after the other, on a pool of one
/// connection through a wire tap, and prints what each transaction sent. Returns whether
/// the scoped transaction cost exactly one statement and one round trip more than the
/// baseline.
pub(super) async fn count_statements(
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
pub(super) async fn idle(pools: &[&PgPool]) -> Result<(), String> {
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
pub(super) struct PerTransaction {
    statement_count: f64,
    round_trip_count: f64,
    /// What one transaction's round trips carried, when all `n` sent the same.
    shape: Option<Vec<String>>,
}

impl PerTransaction {
    pub(super) fn new(round_trips: &[RoundTrip], n: usize) -> Self {
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
    pub(super) fn statements(&self) -> String {
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
    pub(super) fn round_trips(&self) -> String {
        let names = self
            .shape
            .as_ref()
            .map(|s| s.iter().map(String::as_str).collect());
        with_names(self.round_trip_count, names)
    }
}

pub(super) fn with_names(count: f64, names: Option<Vec<&str>>) -> String {
    match names {
        Some(names) => format!("{count} ({})", names.join(", ")),
        None => format!("{count:.2} (not the same in every transaction)"),
    }
}

/// A round trip in a word: the statement it ran (`BEGIN`, `context`, `select`,
/// `COMMIT`), `prepare …` when it only parsed, `check` when it carried nothing.
pub(super) fn describe(round_trip: &RoundTrip) -> String {
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
