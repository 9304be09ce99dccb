//! Starting, using and stopping real servers (needs PostgreSQL installed; runs as root too).
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use throwaway_postgres::ThrowawayPostgres;

/// Runs `psql <url> -tA -c <sql>`; returns stdout, or panics with stderr.
fn psql(url: &str, sql: &str) -> String {
    let psql = throwaway_postgres::binaries().unwrap().join("psql");
    let output = Command::new(psql)
        .args([url, "-X", "-tA", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "psql {url} -c {sql:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The socket directory, the `host` parameter of the URL.
fn dir_of(server: &ThrowawayPostgres) -> PathBuf {
    let (_, host) = server.url().split_once("?host=").unwrap();
    PathBuf::from(host)
}

fn postmaster_pid(dir: &Path) -> u32 {
    let pid_file = std::fs::read_to_string(dir.join("data/postmaster.pid")).unwrap();
    pid_file.lines().next().unwrap().parse().unwrap()
}

fn alive(pid: u32) -> bool {
    Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

fn wait_until_dead(pid: u32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while alive(pid) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

#[test]
fn a_started_server_answers_psql_as_the_superuser() {
    let server = ThrowawayPostgres::start().unwrap();
    let dir = dir_of(&server);
    assert!(
        dir.starts_with("/dev/shm") || dir.starts_with("/tmp"),
        "{dir:?}"
    );
    assert_eq!(
        server.url(),
        format!(
            "postgres://postgres@localhost:5432/postgres?host={}",
            dir.display()
        )
    );
    assert_eq!(psql(server.url(), "select 1"), "1\n");
    assert_eq!(
        psql(server.url(), "select current_user, current_database()"),
        "postgres|postgres\n"
    );
    assert_eq!(psql(server.url(), "show fsync"), "off\n");
    assert_eq!(
        psql(server.url(), "show dynamic_shared_memory_type"),
        "mmap\n"
    );
    assert_eq!(psql(server.url(), "show listen_addresses"), "\n");
    assert_eq!(
        format!("{server:?}"),
        format!(
            "ThrowawayPostgres {{ url: {:?}, dir: {dir:?}, .. }}",
            server.url()
        )
    );
    server.stop();
}

#[test]
fn url_for_database_reaches_a_database_the_caller_created() {
    let server = ThrowawayPostgres::start().unwrap();
    psql(server.url(), "create database app");
    let url = server.url_for_database("app");
    assert_eq!(url, server.url().replace("/postgres?", "/app?"));
    assert_eq!(psql(&url, "select current_database()"), "app\n");
}

#[test]
fn two_servers_at_once_are_separate() {
    let (first, second) = (
        ThrowawayPostgres::start().unwrap(),
        ThrowawayPostgres::start().unwrap(),
    );
    assert_ne!(first.url(), second.url());
    psql(first.url(), "create table only_here (x int)");
    assert_eq!(
        psql(first.url(), "select to_regclass('only_here') is not null"),
        "t\n"
    );
    assert_eq!(
        psql(second.url(), "select to_regclass('only_here') is not null"),
        "f\n"
    );
}

#[test]
fn stop_and_drop_end_the_server_and_remove_its_directory() {
    let (stopped, dropped) = (
        ThrowawayPostgres::start().unwrap(),
        ThrowawayPostgres::start().unwrap(),
    );
    let servers = [
        (dir_of(&stopped), postmaster_pid(&dir_of(&stopped))),
        (dir_of(&dropped), postmaster_pid(&dir_of(&dropped))),
    ];
    for (_, pid) in &servers {
        assert!(alive(*pid));
    }
    stopped.stop();
    drop(dropped);
    for (dir, pid) in servers {
        assert!(!dir.exists(), "{dir:?} is still there");
        assert!(!alive(pid), "postmaster {pid} is still alive");
    }
}

#[test]
fn stop_closes_open_sessions() {
    let server = ThrowawayPostgres::start().unwrap();
    let psql_binary = throwaway_postgres::binaries().unwrap().join("psql");
    let mut session = Command::new(psql_binary)
        .args([server.url(), "-X", "-tA", "-c", "select pg_sleep(60)"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    server.stop();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stop took {:?}",
        started.elapsed()
    );
    assert!(!session.wait().unwrap().success());
}

/// Set in the child process of `a_killed_owner_takes_its_server_along`.
const HOLD: &str = "THROWAWAY_POSTGRES_TEST_HOLD";

/// Only does something as the child of `a_killed_owner_takes_its_server_along`: starts a
/// server, says where, and waits to be killed.
#[test]
fn hold_a_server_until_killed() {
    if std::env::var_os(HOLD).is_none() {
        return;
    }
    let server = ThrowawayPostgres::start().unwrap();
    let dir = dir_of(&server);
    println!("\ndir={}\npid={}", dir.display(), postmaster_pid(&dir));
    // Killed long before this; the bound only keeps a lost child from living forever.
    std::thread::sleep(Duration::from_secs(60));
}

/// Kills the child on drop, so that a failing test does not leave it holding a server.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_killed_owner_takes_its_server_along() {
    let mut child = KillOnDrop(
        Command::new(std::env::current_exe().unwrap())
            .args([
                "hold_a_server_until_killed",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(HOLD, "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    // libtest prints "test <name> ... " before the test's own output, on the same line.
    let (mut dir, mut pid) = (None, None);
    for line in BufReader::new(child.0.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some((_, value)) = line.split_once("dir=") {
            dir = Some(PathBuf::from(value));
        } else if let Some((_, value)) = line.split_once("pid=") {
            pid = Some(value.parse::<u32>().unwrap());
            break;
        }
    }
    let (dir, pid) = (
        dir.expect("the child printed no dir="),
        pid.expect("the child printed no pid="),
    );
    assert!(alive(pid));

    // SIGKILL: no destructor runs in the child.
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    let gone = wait_until_dead(pid, Duration::from_secs(10));
    // Nothing removed the directory; the next start, in any process, does.
    let next = ThrowawayPostgres::start();
    let swept = !dir.exists();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(gone, "postmaster {pid} outlived its killed owner");
    assert!(swept, "{dir:?} was not swept by the next start");
    next.unwrap();
}

#[test]
fn binaries_hold_initdb_and_postgres() {
    let bin = throwaway_postgres::binaries().unwrap();
    assert!(bin.join("initdb").is_file(), "{bin:?}");
    assert!(bin.join("postgres").is_file(), "{bin:?}");
}
