//! Removing the directories of servers whose owner died without cleaning up.
//!
//! When the owning process is killed (SIGKILL, or Ctrl-C on a test run), the guard stops its
//! server but nothing removes the directory: about 30 MB, in RAM when it is on tmpfs. So each
//! directory records its owner in an `owner` file (PID namespace, PID and the process's start
//! time, so that a reused PID is not mistaken for it), and every start removes the directories
//! whose owner is gone and whose postmaster has exited. A directory without a readable
//! `owner`, or from another PID namespace, is left alone.

use std::fs;
use std::io;
use std::path::Path;

use crate::dirs;

/// The name of the file holding the owner's identity in a server's directory.
const OWNER: &str = "owner";

/// Writes `<dir>/owner`: this process, as [`sweep`] recognises it.
pub(crate) fn record_owner(dir: &Path) -> io::Result<()> {
    let me = identity("self").ok_or_else(|| io::Error::other("no /proc/self to name the owner"))?;
    fs::write(dir.join(OWNER), me)
}

/// Removes the directories `<parent>/<prefix><unique name>` whose owner and postmaster are
/// both gone.
pub(crate) fn sweep(parent: &Path, prefix: &str) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    let Some(namespace) = pid_namespace("self") else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let dir = entry.path();
        let ours = entry.file_name().to_str().is_some_and(|name| {
            name.strip_prefix(prefix)
                .is_some_and(|rest| rest.len() == dirs::UNIQUE_NAME_LEN)
        });
        if ours && abandoned(&dir, &namespace) {
            // Another process may be sweeping it too.
            let _ = fs::remove_dir_all(&dir);
        }
    }
}

fn abandoned(dir: &Path, namespace: &str) -> bool {
    let Ok(owner) = fs::read_to_string(dir.join(OWNER)) else {
        return false;
    };
    let Some((owner_namespace, pid, _)) = parse(&owner) else {
        return false;
    };
    if owner_namespace != namespace || identity(pid).as_deref() == Some(owner.as_str()) {
        return false;
    }
    // A postmaster outliving its owner is still shutting down (or being shut down).
    let postmaster = fs::read_to_string(dir.join("data/postmaster.pid"))
        .ok()
        .and_then(|text| text.lines().next().map(|line| line.trim().to_owned()));
    !postmaster.is_some_and(|pid| is_number(&pid) && Path::new("/proc").join(pid).exists())
}

/// `<pid namespace> <pid> <start time>` of the live process `pid` (`self` for this one).
fn identity(pid: &str) -> Option<String> {
    let stat = fs::read_to_string(Path::new("/proc").join(pid).join("stat")).ok()?;
    // "<pid> (<comm>) <state> ...": comm may hold spaces and parentheses; the fields after
    // the last ')' start at field 3, and the start time is field 22.
    // A zombie (state Z) is dead, only not yet reaped.
    let (head, rest) = stat.rsplit_once(')')?;
    let real_pid = head.split_whitespace().next()?;
    let mut fields = rest.split_whitespace();
    if fields.next()? == "Z" {
        return None;
    }
    let start = fields.nth(22 - 4)?;
    Some(format!("{} {real_pid} {start}", pid_namespace(pid)?))
}

fn pid_namespace(pid: &str) -> Option<String> {
    let link = fs::read_link(Path::new("/proc").join(pid).join("ns/pid")).ok()?;
    Some(link.to_str()?.to_owned())
}

/// The three fields of an `owner` file, the PID and start time checked to be numbers (the PID
/// becomes a path under /proc).
fn parse(owner: &str) -> Option<(&str, &str, &str)> {
    let mut fields = owner.split(' ');
    let (namespace, pid, start) = (fields.next()?, fields.next()?, fields.next()?);
    let valid = fields.next().is_none() && is_number(pid) && is_number(start);
    valid.then_some((namespace, pid, start))
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::dirs;

    #[test]
    fn identity_names_this_process_and_its_start() {
        let me = identity("self").unwrap();
        let (namespace, pid, start) = parse(&me).unwrap();
        assert!(namespace.starts_with("pid:["), "{me}");
        assert_eq!(pid, std::process::id().to_string());
        assert!(start.parse::<u64>().is_ok(), "{me}");
        assert_eq!(identity(pid), Some(me.clone()));
    }

    #[test]
    fn sweep_removes_only_directories_of_dead_owners() {
        let parent =
            std::env::temp_dir().join(format!("throwaway-postgres-sweep-{}", dirs::unique_name()));
        let dir = |name: &str, owner: Option<String>| {
            let dir = parent.join(name);
            fs::create_dir_all(dir.join("data")).unwrap();
            if let Some(owner) = owner {
                fs::write(dir.join(OWNER), owner).unwrap();
            }
            dir
        };
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let gone = identity(&child.id().to_string()).unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        let (namespace, _, _) = parse(&gone).unwrap();
        let elsewhere = gone.replacen(namespace, "pid:[1]", 1);

        let mine = dir("pg-aaaaaaaaaa", identity("self"));
        let dead = dir("pg-bbbbbbbbbb", Some(gone.clone()));
        let other_namespace = dir("pg-cccccccccc", Some(elsewhere));
        let unowned = dir("pg-dddddddddd", None);
        let garbage = dir("pg-eeeeeeeeee", Some(format!("{namespace} ../.. 1")));
        let running = dir("pg-ffffffffff", Some(gone.clone()));
        fs::write(
            running.join("data/postmaster.pid"),
            format!("{}\n", std::process::id()),
        )
        .unwrap();
        let not_ours = dir("pg-short", Some(gone));

        sweep(&parent, "pg-");
        let left = [
            &mine,
            &dead,
            &other_namespace,
            &unowned,
            &garbage,
            &running,
            &not_ours,
        ]
        .map(|dir| dir.exists());
        fs::remove_dir_all(&parent).unwrap();
        assert_eq!(left, [true, false, true, true, true, true, true]);
    }
}
