//! Small helpers shared by the benchmarks: the machine, resident memory, a signed-in
//! session from the emulator, command lookup.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use supabase_auth_emulator::Emulator;
use supabase_ssr::SupabaseAuth;
use supabase_ssr::clock::{Clock, SystemClock};
use supabase_ssr::cookies::CookieJar;

pub(crate) const EMAIL: &str = "bench@example.com";
pub(crate) const PASSWORD: &str = "bench-password-1";

/// One line naming the machine and the day, printed before every run.
pub(crate) fn machine_line() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!(
        "machine: {model}, {cores} cores; date: {} (UTC)",
        civil_date(secs)
    )
}

/// `YYYY-MM-DD` of a Unix time (days-from-civil, inverted).
fn civil_date(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0) + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// This process's resident set size (VmRSS) and its peak (VmHWM), in KiB.
pub(crate) fn rss_kib() -> (u64, u64) {
    rss_kib_of("/proc/self/status")
}

/// VmRSS and VmHWM, in KiB, of the process whose `/proc/PID/status` is `path`.
pub(crate) fn rss_kib_of(path: &str) -> (u64, u64) {
    let status = std::fs::read_to_string(path).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Whether `name` is an executable on `PATH`.
pub(crate) fn has_command(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()))
}

/// The repository root (for `interop/js`).
pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A directory of ours under the system's temporary directory, for the files of wrk Lua
/// scripts, removed when dropped (whether the run ends well or not).
pub(crate) struct ScratchDir(pub(crate) PathBuf);

impl ScratchDir {
    pub(crate) fn new() -> Result<Self, String> {
        let dir = std::env::temp_dir().join(format!("supabase-ssr-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Self(dir))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The benchmark user, signed in through our client: the client's auth and its cookies.
pub(crate) struct SignedIn {
    pub(crate) auth: SupabaseAuth,
    pub(crate) jar: Arc<CookieJar>,
    pub(crate) access_token: String,
}

/// Creates the benchmark user and signs in through our client.
pub(crate) async fn sign_in(emulator: &Emulator) -> Result<SignedIn, String> {
    emulator
        .create_user(EMAIL, PASSWORD)
        .await
        .map_err(|e| format!("create_user: {e}"))?;
    let auth = SupabaseAuth::builder(emulator.url(), emulator.publishable_key())
        .build()
        .map_err(|e| e.to_string())?;
    let jar = Arc::new(CookieJar::default());
    let session = auth
        .server_client(jar.clone())
        .sign_in_with_password(EMAIL, PASSWORD)
        .await
        .map_err(|e| format!("sign in: {e}"))?;
    let access_token = session.access_token().to_owned();
    Ok(SignedIn {
        auth,
        jar,
        access_token,
    })
}

/// Creates the benchmark user and signs in through our client; returns the `Cookie`
/// header a browser would then send.
pub(crate) async fn signed_in_cookie(emulator: &Emulator) -> Result<String, String> {
    Ok(sign_in(emulator).await?.jar.cookie_header())
}

/// Creates the benchmark user and signs in through our client; returns the access token
/// an API client would then send as `Authorization: Bearer <token>`.
pub(crate) async fn signed_in_access_token(emulator: &Emulator) -> Result<String, String> {
    Ok(sign_in(emulator).await?.access_token)
}

/// The system clock moved by a fixed offset: lets a server live "later" than the moment
/// a session was issued, so the session is really expired for it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OffsetClock(pub(crate) i64);

impl Clock for OffsetClock {
    fn now_millis(&self) -> i64 {
        SystemClock.now_millis().saturating_add(self.0)
    }
}

/// The median of `values` (the lower middle for an even count); 0 when empty.
pub(crate) fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    values[(values.len() - 1) / 2]
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates() {
        assert_eq!(super::civil_date(0), "1970-01-01");
        assert_eq!(super::civil_date(1_760_000_000), "2025-10-09");
        assert_eq!(super::civil_date(951_782_400), "2000-02-29");
    }
}
