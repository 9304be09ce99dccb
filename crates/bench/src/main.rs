//! Benchmarks of supabase-ssr that need more than criterion: HTTP load through the axum
//! proxy against a plain route and the official JS stack (with one user or many, on one
//! core or every core), the bearer path through `ApiAuthLayer`, the actix-web middleware
//! against plain actix-web, requests whose every token is new, a refresh storm, resident
//! memory under a stream of distinct tokens or sessions, the size of session cookies with
//! each `CookieContents`, and RLS-scoped PostgreSQL transactions against the same
//! transactions without the context. Some commands also draw charts (`charts.rs`).
//!
//! ```text
//! cargo run --release -p bench -- http|api|actix|storm|memory|rls|cookies|cold|users|all|charts [--quick]
//! ```
//!
//! Everything listens on 127.0.0.1 or a unix socket only, every run is bounded in time, and every process
//! started here is stopped here. See BENCHMARKS.md for the figures and how to read them.

mod actix;
mod api;
mod charts;
mod cold;
mod common;
mod cookies;
mod http;
mod instr;
mod load;
mod memory;
mod rls;
mod rounds;
mod servers;
mod signer;
mod storm;
mod wire;
mod wrk;

use std::process::ExitCode;

const USAGE: &str = "\
bench: supabase-ssr benchmarks (loopback only, bounded in time)

USAGE:
    cargo run --release -p bench -- <COMMAND> [--quick]

COMMANDS:
    http     wrk against a plain axum route, the same route behind SupabaseLayer with a
             valid session cookie, and the official JS proxy (node:http + @supabase/ssr
             createServerClient + getClaims); prints requests/s, p50, p99 and the ratios
    api      wrk against the plain axum route and the same route behind ApiAuthLayer
             (mode user), every request with Authorization: Bearer <access token>
    actix    wrk against a plain actix-web route and the same route behind
             SupabaseMiddleware with a valid session cookie
    storm    100 and 1,000 parallel requests holding one expired session: refresh
             requests reaching the Auth emulator, failures, time to serve all
    memory   resident size while 1,000,000 distinct valid tokens are verified
    rls      transactions/s of a read scoped by RlsPool::begin against the same
             transaction without the context, on one pool of a throwaway PostgreSQL (or
             of a database of its own on DATABASE_URL's server); statements and round
             trips per transaction, read off the wire
    cookies  the session cookies of a typical session and of one with profile metadata,
             with each CookieContents: cookies, Cookie header bytes, JSON bytes
    cold     p50/p99 under load when every request carries a token the server has never
             seen: the bare ES256 signature check, ApiAuthLayer (bearer) and SupabaseLayer
             (session cookie); each server fresh each round
    users    http --sessions N for N = 1, 1,000, 10,000 and 100,000, and a chart of
             requests/s against N (docs/charts/users.svg)
    all      every command above but cold and users, in turn
    charts   draw the charts of docs/charts again from their data (no measuring)

OPTIONS:
    --quick  a few seconds each (for CI: proves the benchmarks still run, measures little)
    -h, --help

http, api and actix also take --duration SECS (default 10), --connections N (default 32) and
--rounds N (default 5; the median round is reported) and --threads N (the servers on a
runtime of N worker threads and wrk beside them, nothing pinned; default: one thread each,
servers pinned to core 0 and wrk to core 1); http takes --sessions N (N distinct
users, each request with the session cookie of one of them at random; default: one user);
cold takes --tokens N (default 250,000), --duration SECS (default 5) and --rounds N
(default 3); rls takes --duration SECS per workload per round (default 10), --connections N (pool size
and concurrent tasks, default 8) and --rounds N (default 5); memory takes --tokens N,
--no-token-cache (the same run with the verified-token cache off), --sessions (the
tokens as session cookies read by get_session, through the decoded-session cache) and
--http (session cookies sent over HTTP to `bench serve proxy`, a process of its own whose
VmRSS is read from /proc).
`bench instr read|hit|miss|sig|plain|proxy|users|api N` is a fixed loop for valgrind --tool=callgrind.";

/// Options shared by the subcommands.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) quick: bool,
    pub(crate) duration_secs: Option<u64>,
    pub(crate) connections: Option<u32>,
    pub(crate) rounds: Option<usize>,
    pub(crate) tokens: Option<u64>,
    /// `memory --no-token-cache`: the same run with the verified-token cache off, to
    /// show what the cache holds.
    pub(crate) no_token_cache: bool,
    /// `memory --sessions`: the tokens as session cookies, read by `get_session`.
    pub(crate) sessions: bool,
    /// `memory --http`: session cookies sent over HTTP to a server process of its own.
    pub(crate) http: bool,
    /// `http --sessions N`: N distinct users' sessions, each request taking one at random.
    pub(crate) users: Option<u64>,
    /// `--threads N`: servers on a multi-thread runtime of N workers, not pinned.
    pub(crate) threads: Option<usize>,
}

impl Options {
    /// The options as they were given, for the command line printed with a chart.
    pub(crate) fn flags(&self) -> String {
        let mut flags = String::new();
        let mut add = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                flags.push_str(&format!(" {name} {value}"));
            }
        };
        add("--duration", self.duration_secs.map(|v| v.to_string()));
        add("--connections", self.connections.map(|v| v.to_string()));
        add("--rounds", self.rounds.map(|v| v.to_string()));
        add("--threads", self.threads.map(|v| v.to_string()));
        add("--tokens", self.tokens.map(|v| v.to_string()));
        for (on, flag) in [
            (self.sessions, " --sessions"),
            (self.http, " --http"),
            (self.no_token_cache, " --no-token-cache"),
            (self.quick, " --quick"),
        ] {
            if on {
                flags.push_str(flag);
            }
        }
        flags
    }
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        quick: false,
        duration_secs: None,
        connections: None,
        rounds: None,
        tokens: None,
        no_token_cache: false,
        sessions: false,
        http: false,
        users: None,
        threads: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| -> Result<u64, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--no-token-cache" => options.no_token_cache = true,
            "--http" => options.http = true,
            // `memory --sessions` is a flag; `http --sessions N` takes the number of users.
            "--sessions" => match it.clone().next().and_then(|v| v.parse::<u64>().ok()) {
                Some(n) => {
                    it.next();
                    options.users = Some(n.max(1));
                }
                None => options.sessions = true,
            },
            "--duration" => options.duration_secs = Some(value("--duration")?),
            "--connections" => {
                options.connections =
                    Some(u32::try_from(value("--connections")?).map_err(|e| e.to_string())?);
            }
            "--rounds" => {
                options.rounds =
                    Some(usize::try_from(value("--rounds")?).map_err(|e| e.to_string())?);
            }
            "--tokens" => options.tokens = Some(value("--tokens")?),
            "--threads" => {
                options.threads =
                    Some(usize::try_from(value("--threads")?).map_err(|e| e.to_string())?);
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    if command == "serve" {
        // A server child of `http`, `api` or `actix`, pinned to its own core by the parent
        // unless it has `--threads N` worker threads.
        let (args, threads) = servers::split_threads(&args[1..]);
        let served = match args.first().map(String::as_str) {
            Some("actix-plain" | "actix-proxy") => actix::serve_child(args, threads),
            _ => servers::serve_child(args, threads),
        };
        return match served {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("bench serve: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if command == "instr" {
        // A fixed loop for callgrind (see instr.rs).
        return match instr::run(&args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("bench instr: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if command == "charts" {
        return match charts::redraw() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("bench charts: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if command == "-h" || command == "--help" {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let options = match parse(&args[1..]) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        println!("{}", common::machine_line());
        match command.as_str() {
            "http" => http::run(&options).await,
            "api" => api::run(&options).await,
            "actix" => actix::run(&options).await,
            "storm" => storm::run(&options).await,
            "memory" => memory::run(&options).await,
            "rls" => rls::run(&options).await,
            "cookies" => cookies::run().await,
            "cold" => cold::run(&options).await,
            "users" => http::users(&options).await,
            "all" => {
                http::run(&options).await?;
                api::run(&options).await?;
                actix::run(&options).await?;
                storm::run(&options).await?;
                memory::run(&options).await?;
                rls::run(&options).await?;
                cookies::run().await
            }
            other => Err(format!("unknown command {other}\n\n{USAGE}")),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench {command}: {e}");
            ExitCode::FAILURE
        }
    }
}
