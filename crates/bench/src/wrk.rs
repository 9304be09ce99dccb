//! Running `wrk` (the Debian package) and reading its report.

use std::path::Path;
use std::time::Duration;

use tokio::process::Command;

use crate::common::has_command;

/// What one `wrk` run measured.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct WrkResult {
    pub(crate) requests_per_sec: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p75_ms: f64,
    pub(crate) p90_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) requests: u64,
    /// Non-2xx/3xx responses plus socket errors.
    pub(crate) errors: u64,
}

impl WrkResult {
    /// Equal-length runs as one: requests/s and requests summed over the runs (their
    /// mean rate), latency percentiles the median of the runs', errors summed.
    pub(crate) fn merge(runs: &[WrkResult]) -> WrkResult {
        let n = runs.len().max(1) as f64;
        let median = |f: fn(&WrkResult) -> f64| {
            let mut values: Vec<f64> = runs.iter().map(f).collect();
            crate::common::median(&mut values)
        };
        WrkResult {
            requests_per_sec: runs.iter().map(|r| r.requests_per_sec).sum::<f64>() / n,
            p50_ms: median(|r| r.p50_ms),
            p75_ms: median(|r| r.p75_ms),
            p90_ms: median(|r| r.p90_ms),
            p99_ms: median(|r| r.p99_ms),
            requests: runs.iter().map(|r| r.requests).sum(),
            errors: runs.iter().map(|r| r.errors).sum(),
        }
    }
}

/// The one request header every request of a run carries: the session cookie
/// (`bench http`) or the bearer token (`bench api`).
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub(crate) name: &'static str,
    pub(crate) value: String,
}

impl Header {
    /// `Cookie: <cookie>`, as a browser sends it.
    pub(crate) fn cookie(cookie: String) -> Self {
        Self {
            name: "Cookie",
            value: cookie,
        }
    }

    /// `Authorization: Bearer <token>`, as an API client sends it.
    pub(crate) fn bearer(token: &str) -> Self {
        Self {
            name: "Authorization",
            value: format!("Bearer {token}"),
        }
    }
}

/// What every request of a run carries: one header, or what a wrk Lua script makes.
pub(crate) enum Requests<'a> {
    Header(&'a Header),
    Script(&'a Path),
}

/// One bounded `wrk` run against `url`, pinned to `core` when `taskset` exists.
pub(crate) async fn run(
    url: &str,
    requests: Requests<'_>,
    connections: u32,
    duration: Duration,
    core: Option<usize>,
) -> Result<WrkResult, String> {
    let secs = duration.as_secs().max(1);
    let mut wrk_args: Vec<String> = vec![
        "-t1".into(),
        format!("-c{connections}"),
        format!("-d{secs}s"),
        "--latency".into(),
    ];
    match requests {
        Requests::Header(header) => {
            wrk_args.extend(["-H".into(), format!("{}: {}", header.name, header.value)]);
        }
        Requests::Script(script) => {
            wrk_args.extend(["-s".into(), script.to_string_lossy().into_owned()]);
        }
    }
    wrk_args.push(url.into());
    let mut command = match core.filter(|_| has_command("taskset")) {
        Some(core) => {
            let mut c = Command::new("taskset");
            let mut args = vec!["-c".to_owned(), core.to_string(), "wrk".to_owned()];
            args.append(&mut wrk_args);
            c.args(args);
            c
        }
        None => {
            let mut c = Command::new("wrk");
            c.args(wrk_args);
            c
        }
    };
    command.kill_on_drop(true);
    // wrk stops by itself after `-d`; the timeout only guards against a hang.
    let output = tokio::time::timeout(duration + Duration::from_secs(30), command.output())
        .await
        .map_err(|_| "wrk did not finish in time".to_owned())?
        .map_err(|e| format!("cannot run wrk: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "wrk failed: {}\n{text}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    parse(&text).ok_or_else(|| format!("cannot read wrk's report:\n{text}"))
}

/// Reads `Requests/sec`, the 50%, 75%, 90% and 99% latency lines of `--latency`, the request
/// count and the error lines.
pub(crate) fn parse(report: &str) -> Option<WrkResult> {
    let mut result = WrkResult::default();
    let mut saw_rate = false;
    for line in report.lines() {
        let line = line.trim();
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("Requests/sec:"), Some(rate)) => {
                result.requests_per_sec = rate.parse().ok()?;
                saw_rate = true;
            }
            (Some("50%"), Some(latency)) => result.p50_ms = latency_ms(latency)?,
            (Some("75%"), Some(latency)) => result.p75_ms = latency_ms(latency)?,
            (Some("90%"), Some(latency)) => result.p90_ms = latency_ms(latency)?,
            (Some("99%"), Some(latency)) => result.p99_ms = latency_ms(latency)?,
            (Some(count), Some("requests")) => result.requests = count.parse().ok()?,
            (Some("Non-2xx"), _) => {
                result.errors += line.rsplit(' ').next()?.parse::<u64>().ok()?;
            }
            (Some("Socket"), Some("errors:")) => {
                // "Socket errors: connect 0, read 0, write 0, timeout 0"
                result.errors += line
                    .split(',')
                    .filter_map(|part| part.rsplit(' ').next()?.parse::<u64>().ok())
                    .sum::<u64>();
            }
            _ => {}
        }
    }
    saw_rate.then_some(result)
}

/// `812.00us`, `1.23ms`, `2.01s` in milliseconds.
fn latency_ms(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => value / 1000.0,
        "ms" => value,
        "s" => value * 1000.0,
        "m" => value * 60_000.0,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[test]
    fn reads_a_wrk_report() {
        let report = "\
Running 2s test @ http://127.0.0.1:3000/
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   612.40us  201.10us   3.21ms   80.00%
    Req/Sec    52.10k     1.20k   54.00k    70.00%
  Latency Distribution
     50%  580.00us
     75%  690.00us
     90%  820.00us
     99%    1.42ms
  103674 requests in 2.00s, 12.36MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  51837.00
Transfer/sec:      6.18MB
";
        let r = super::parse(report).unwrap();
        assert_eq!(r.requests_per_sec, 51_837.0);
        assert_eq!(r.p50_ms, 0.58);
        assert_eq!(r.p75_ms, 0.69);
        assert_eq!(r.p90_ms, 0.82);
        assert_eq!(r.p99_ms, 1.42);
        assert_eq!(r.requests, 103_674);
        assert_eq!(r.errors, 7);
    }
}
