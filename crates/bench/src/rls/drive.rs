//! Driving a workload for a time span, and the CPU time it cost client and server.

use super::*;

/// Transactions completed, the time they took, and the CPU time they cost: this
/// process's (the client: the tasks and sqlx) and the server's (its backends).
#[derive(Clone, Copy, Default)]
pub(super) struct Rate {
    transactions: u64,
    elapsed: Duration,
    client_ns: u64,
    /// `None` when the server's processes are not known (a `DATABASE_URL` server).
    server_ns: Option<u64>,
}

impl Rate {
    pub(super) fn per_sec(self) -> f64 {
        self.transactions as f64 / self.elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
    }

    /// Client and server CPU time per transaction, in µs.
    pub(super) fn cpu_us(self) -> (f64, Option<f64>) {
        let per = |ns: u64| ns as f64 / 1_000.0 / self.transactions.max(1) as f64;
        (per(self.client_ns), self.server_ns.map(per))
    }

    pub(super) fn merge(parts: &[Rate]) -> Rate {
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
pub(super) fn cpu_ns(pid: &str) -> Option<u64> {
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
pub(super) async fn backends(database: &Database, pool: &PgPool) -> Result<Vec<String>, String> {
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
pub(super) fn cpu_now(backends: &[String]) -> (u64, Option<u64>) {
    let server =
        (!backends.is_empty()).then(|| backends.iter().filter_map(|pid| cpu_ns(pid)).sum());
    (cpu_ns("self").unwrap_or(0), server)
}

/// `tasks` tasks run `workload`'s transactions back to back for `span`.
pub(super) async fn drive(
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
