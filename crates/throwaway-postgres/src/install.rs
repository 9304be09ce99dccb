//! Where PostgreSQL is installed, and which user runs it.
//!
//! `initdb` and `postgres` refuse to run as root, so under root (as in CI) they run as the
//! `postgres` system user that Debian's package creates, through util-linux's `setpriv`.

use std::ffi::OsStr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use crate::Error;

/// Names the one directory to take the server binaries from (a source build, another
/// package manager's prefix).
pub const BINDIR_VARIABLE: &str = "THROWAWAY_POSTGRES_BINDIR";

/// Bumped when the template's `initdb` flags change, so an old cached template is not reused.
const TEMPLATE_LAYOUT: &str = "initdb-v1";

/// The directory holding `initdb` and `postgres`: `$THROWAWAY_POSTGRES_BINDIR` when set
/// (and then only it), else `pg_config --bindir`, else the newest
/// `/usr/lib/postgresql/*/bin`.
///
/// Returns [`Error::NotInstalled`] when none holds them; its message says how to get them
/// (`apt-get install postgresql`, or set `DATABASE_URL` to an existing server).
pub fn binaries() -> Result<PathBuf, Error> {
    if let Some(dir) = std::env::var_os(BINDIR_VARIABLE).filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        return if has_server(&dir) {
            Ok(dir)
        } else {
            Err(Error::NotInstalled)
        };
    }
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    // Debian's pg_config can come from libpq-dev alone and name a bindir without a server.
    if let Some(dir) = from_pg_config.filter(|dir| has_server(dir)) {
        return Ok(dir);
    }
    newest_debian_bindir(Path::new("/usr/lib/postgresql")).ok_or(Error::NotInstalled)
}

fn has_server(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("postgres").is_file()
}

/// The `<version>/bin` under `root` with the highest version that holds a server.
fn newest_debian_bindir(root: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(root).ok()?;
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version: Vec<u32> = entry
                .file_name()
                .to_str()?
                .split('.')
                .map(str::parse)
                .collect::<Result<_, _>>()
                .ok()?;
            let bin = entry.path().join("bin");
            has_server(&bin).then_some((version, bin))
        })
        .max()
        .map(|(_, bin)| bin)
}

/// What every server of this process shares: found once, on the first start.
#[derive(Debug)]
pub(crate) struct Setup {
    /// The directory of `initdb`, `postgres`.
    pub(crate) bindir: PathBuf,
    /// Names the cached template: the server's version and a hash of its build and our flags.
    pub(crate) template_key: String,
    pub(crate) account: Account,
    /// The uid of this process, which names the per-user cache directory.
    pub(crate) uid: u32,
    /// Where each server's directory goes.
    pub(crate) instances: PathBuf,
}

impl Setup {
    pub(crate) fn get() -> Result<&'static Setup, Error> {
        static SETUP: OnceLock<Setup> = OnceLock::new();
        if let Some(setup) = SETUP.get() {
            return Ok(setup);
        }
        let setup = Setup::detect()?;
        Ok(SETUP.get_or_init(|| setup))
    }

    fn detect() -> Result<Setup, Error> {
        let bindir = binaries()?;
        let postgres = bindir.join("postgres");
        let version = run(
            Command::new(&postgres).arg("--version"),
            "asking postgres its version",
        )?;
        let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
        // "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)": the number names the
        // template for people; the hash keeps builds and flag changes apart.
        let number: String = version
            .split_whitespace()
            .nth(2)
            .unwrap_or("unknown")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
            .collect();
        let hash = fnv1a(&[
            version.as_bytes(),
            bindir.as_os_str().as_encoded_bytes(),
            TEMPLATE_LAYOUT.as_bytes(),
        ]);
        let uid = current_uid()?;
        let account = if uid == 0 {
            Account::postgres_user()?
        } else {
            Account { owner: None }
        };
        Ok(Setup {
            bindir,
            template_key: format!("{number}-{hash:016x}"),
            account,
            uid,
            instances: crate::dirs::instances_parent(),
        })
    }
}

/// Who runs `initdb` and `postgres`, and owns their files.
#[derive(Debug)]
pub(crate) struct Account {
    /// `(uid, gid)` of the `postgres` user when we are root; `None` runs them as ourselves.
    owner: Option<(u32, u32)>,
}

impl Account {
    fn postgres_user() -> Result<Account, Error> {
        let id = |flag: &str| -> Result<u32, Error> {
            let context = "running as root, so PostgreSQL must run as the `postgres` user \
                           (created by `apt-get install postgresql`); looking it up";
            let output = run(Command::new("id").args([flag, "postgres"]), context)?;
            String::from_utf8_lossy(&output.stdout)
                .trim()
                .parse()
                .map_err(|_| Error::Command {
                    context: context.to_owned(),
                    output: format!(
                        "`id {flag} postgres` printed {:?}",
                        String::from_utf8_lossy(&output.stdout)
                    ),
                })
        };
        Ok(Account {
            owner: Some((id("-u")?, id("-g")?)),
        })
    }

    /// Ourselves, whatever our uid: for tests of the file helpers.
    #[cfg(test)]
    pub(crate) fn current_user() -> Account {
        Account { owner: None }
    }

    /// A command that runs `program` as the server's user.
    pub(crate) fn command(&self, program: impl AsRef<OsStr>) -> Command {
        match self.owner {
            Some((uid, gid)) => {
                let mut command = Command::new("setpriv");
                command
                    .arg(format!("--reuid={uid}"))
                    .arg(format!("--regid={gid}"))
                    .arg("--clear-groups")
                    .arg("--")
                    .arg(program);
                command
            }
            None => Command::new(program),
        }
    }

    /// Gives `path` (not a symlink's target) to the server's user; nothing to do when that is us.
    pub(crate) fn chown(&self, path: &Path) -> std::io::Result<()> {
        match self.owner {
            Some((uid, gid)) => std::os::unix::fs::lchown(path, Some(uid), Some(gid)),
            None => Ok(()),
        }
    }
}

/// The effective uid of this process: the owner of `/proc/self`, else what `id -u` says.
fn current_uid() -> Result<u32, Error> {
    if let Ok(metadata) = std::fs::metadata("/proc/self") {
        return Ok(metadata.uid());
    }
    let output = run(Command::new("id").arg("-u"), "asking `id -u` for our uid")?;
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .map_err(|_| Error::Command {
            context: "asking `id -u` for our uid".to_owned(),
            output: String::from_utf8_lossy(&output.stdout).into_owned(),
        })
}

/// Runs `command` to completion; a failure to start or a non-zero exit is an [`Error`].
pub(crate) fn run(command: &mut Command, context: &str) -> Result<Output, Error> {
    let output = command.output().map_err(Error::io(format!(
        "{context}: could not run {:?}",
        command.get_program()
    )))?;
    if output.status.success() {
        return Ok(output);
    }
    Err(Error::Command {
        context: context.to_owned(),
        output: format!(
            "{:?} exited with {}: {}{}",
            command.get_program(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    })
}

/// FNV-1a over the parts: stable across processes and Rust versions, unlike `DefaultHasher`.
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in parts.iter().flat_map(|part| part.iter().chain(&[0])) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_newest_version_directory_with_a_server_wins() {
        let root =
            std::env::temp_dir().join(format!("throwaway-postgres-bindir-{}", std::process::id()));
        for (version, server) in [
            ("9.6", true),
            ("15", true),
            ("17", false),
            ("notaversion", true),
        ] {
            let bin = root.join(version).join("bin");
            std::fs::create_dir_all(&bin).unwrap();
            if server {
                std::fs::write(bin.join("initdb"), "").unwrap();
                std::fs::write(bin.join("postgres"), "").unwrap();
            }
        }
        let found = newest_debian_bindir(&root);
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(found, Some(root.join("15").join("bin")));
        assert_eq!(newest_debian_bindir(&root), None);
    }

    #[test]
    fn fnv1a_matches_the_reference_and_keeps_parts_apart() {
        // The published FNV-1a 64 test vector: "a" -> 0xaf63dc4c8601ec8c; here "a" is followed by
        // the part separator, so check against the same loop over "a\0".
        let reference = |bytes: &[u8]| {
            bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
                (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
            })
        };
        assert_eq!(reference(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(&[b"a"]), reference(b"a\0"));
        assert_ne!(fnv1a(&[b"ab", b""]), fnv1a(&[b"a", b"b"]));
    }
}
