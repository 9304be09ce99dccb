//! The running `postgres` process, and the guard that takes it down with us.
//!
//! # Why a guard
//!
//! A test process can die without running destructors (SIGKILL from a timeout, a crash, an
//! `abort`), and a server it leaves behind keeps a port-less socket, memory and a directory
//! forever. Without `unsafe` (no `prctl(PR_SET_PDEATHSIG)`), we use a pipe: `postgres` runs
//! under a small `sh` guard whose stdin is a pipe whose only writer is this process, kept in
//! [`Server`]. When that end closes, because we drop it or because the kernel closes it when
//! this process dies however it dies, `read` in the guard returns and the guard sends
//! `postgres` SIGINT (fast shutdown: disconnects clients, no waiting), waits for it and exits.
//! The pipe is close-on-exec, as every descriptor Rust opens, so no other child holds it open.
//! The guard signals only the `postgres` it started, and removes nothing.
//!
//! The guard also exits when `postgres` exits by itself, so waiting for the guard waits for
//! the server, and a server that fails to start shows up as an exited child.

use std::fs::File;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::Error;
use crate::dirs;
use crate::install::Setup;

/// `$0` is a name for `ps`; `"$@"` is the `postgres` command line. fd 3 carries the pipe to
/// the watcher, whose own stdin would otherwise be /dev/null (an asynchronous list's is).
const GUARD: &str = r#"exec 3<&0 </dev/null
"$@" 3<&- &
server=$!
( read -r _ <&3; kill -INT "$server" 2>/dev/null ) &
watcher=$!
exec 3<&-
wait "$server"
status=$?
kill "$watcher" 2>/dev/null
exit "$status"
"#;

/// The port only names the socket file (`.s.PGSQL.5432`): the server listens on no TCP port.
pub(crate) const PORT: u16 = 5432;

const READY_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(5);

/// A started `postgres` under its guard.
#[derive(Debug)]
pub(crate) struct Server {
    guard: Child,
    /// The write end of the guard's stdin; closing it stops the server.
    pipe: Option<ChildStdin>,
    /// The postmaster's PID, for the last resort when the guard does not stop it in time.
    pid: Option<u32>,
}

/// Why [`Server::start`] failed, and whether the template may be to blame.
#[derive(Debug)]
pub(crate) struct StartFailure {
    pub(crate) error: Error,
    /// The server exited by itself or the copy failed, as a damaged template would cause; a
    /// timeout would not.
    pub(crate) template_suspect: bool,
}

impl Server {
    /// Starts `postgres` on `data`, its socket and log in `dir`, and waits until it accepts
    /// connections. On failure the server is stopped again.
    pub(crate) fn start(setup: &Setup, dir: &Path, data: &Path) -> Result<Server, StartFailure> {
        let unrelated = |error| StartFailure {
            error,
            template_suspect: false,
        };
        let log_path = dir.join("postgres.log");
        let log = File::create(&log_path)
            .map_err(Error::io(format!("creating {}", log_path.display())))
            .map_err(unrelated)?;
        setup
            .account
            .chown(&log_path)
            .map_err(Error::io(format!(
                "giving {} to the server's user",
                log_path.display()
            )))
            .map_err(unrelated)?;
        let log_again = log
            .try_clone()
            .map_err(Error::io(format!("opening {}", log_path.display())))
            .map_err(unrelated)?;

        let mut command = setup.account.command("/bin/sh");
        command
            .args(["-c", GUARD, "throwaway-postgres-guard"])
            .arg(setup.bindir.join("postgres"))
            .arg("-D")
            .arg(data)
            .arg("-k")
            .arg(dir)
            .arg("-p")
            .arg(PORT.to_string())
            .args(["-c", "listen_addresses="])
            // A throwaway: nothing needs to survive a crash.
            .args([
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ])
            .args(["-c", "max_connections=100"])
            // Segments for parallel queries in the data directory, not /dev/shm: a killed
            // server leaves nothing outside its directory.
            .args(["-c", "dynamic_shared_memory_type=mmap"])
            .current_dir(dir)
            .stdin(Stdio::piped())
            // Never the test harness's pipes: a server holding them would look like a leak.
            .stdout(log)
            .stderr(log_again);
        let mut guard = command
            .spawn()
            .map_err(Error::io(format!(
                "starting {:?} under a guard shell",
                setup.bindir.join("postgres")
            )))
            .map_err(unrelated)?;
        let pipe = guard.stdin.take();
        let mut server = Server {
            guard,
            pipe,
            pid: None,
        };

        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let failure = |reason: String, template_suspect| StartFailure {
                error: Error::NotReady {
                    reason,
                    log_tail: dirs::tail(&log_path, 30),
                },
                template_suspect,
            };
            match server.guard.try_wait() {
                Ok(Some(status)) => {
                    return Err(failure(
                        format!("PostgreSQL exited during startup ({status})"),
                        true,
                    ));
                }
                Ok(None) => {}
                Err(error) => {
                    server.stop();
                    return Err(failure(
                        format!("could not watch the PostgreSQL process: {error}"),
                        false,
                    ));
                }
            }
            if let Some(pid) = ready_pid(data) {
                server.pid = Some(pid);
                return Ok(server);
            }
            if Instant::now() >= deadline {
                // Read the log before stopping, which adds the shutdown to it.
                let failure = failure(
                    format!(
                        "PostgreSQL did not accept connections within {} s",
                        READY_TIMEOUT.as_secs()
                    ),
                    false,
                );
                server.stop();
                return Err(failure);
            }
            sleep(POLL);
        }
    }

    /// Stops the server: fast shutdown through the guard, then SIGKILL if it takes too long.
    pub(crate) fn stop(&mut self) {
        self.pipe = None;
        if wait_timeout(&mut self.guard, STOP_TIMEOUT).is_some() {
            return;
        }
        if let Some(pid) = self.pid {
            let _ = kill(pid, "KILL");
        }
        let _ = self.guard.kill();
        let _ = self.guard.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A no-op after `stop`: the guard has been waited for.
        if matches!(self.guard.try_wait(), Ok(None)) {
            self.stop();
        }
    }
}

/// The postmaster's PID once `postmaster.pid` says it accepts connections, as `pg_ctl -w`
/// checks: the 8th line is `ready` (PostgreSQL 10 and later).
fn ready_pid(data: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(data.join("postmaster.pid")).ok()?;
    let mut lines = text.lines();
    let pid = lines.next()?.trim().parse().ok()?;
    (lines.nth(6)?.trim() == "ready").then_some(pid)
}

fn wait_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => sleep(POLL),
            _ => return None,
        }
    }
}

/// Sends `signal` to `pid` with the shell's `kill`, present wherever `sh` is.
fn kill(pid: u32, signal: &str) -> std::io::Result<ExitStatus> {
    Command::new("/bin/sh")
        .args([
            "-c",
            "kill -s \"$1\" \"$2\" 2>/dev/null",
            "kill",
            signal,
            &pid.to_string(),
        ])
        .stdin(Stdio::null())
        .status()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn ready_pid_reads_the_status_line() {
        let dir =
            std::env::temp_dir().join(format!("throwaway-postgres-pid-{}", dirs::unique_name()));
        std::fs::create_dir(&dir).unwrap();
        let starting = "123\n/d\n1\n5432\n/s\n\n  1 2\nstarting\n";
        std::fs::write(dir.join("postmaster.pid"), starting).unwrap();
        let while_starting = ready_pid(&dir);
        std::fs::write(
            dir.join("postmaster.pid"),
            starting.replace("starting", "ready   "),
        )
        .unwrap();
        let when_ready = ready_pid(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(while_starting, None);
        assert_eq!(when_ready, Some(123));
        assert_eq!(ready_pid(&dir), None);
    }
}
