//! The directories: a fresh one per server, the per-user cache, copying a tree.

use std::fs::{self, DirBuilder};
use std::hash::{BuildHasher, RandomState};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use crate::Error;
use crate::install::Account;

/// Creates `<parent>/<prefix><random>`, mode 0700, owned by the server's user.
pub(crate) fn unique_dir(parent: &Path, prefix: &str, account: &Account) -> Result<PathBuf, Error> {
    let mut last = None;
    for _ in 0..16 {
        let dir = parent.join(format!("{prefix}{}", unique_name()));
        match create_private_dir(&dir, account) {
            Ok(()) => return Ok(dir),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => last = Some(error),
            Err(error) => return Err(Error::io(format!("creating {}", dir.display()))(error)),
        }
    }
    let error = last.unwrap_or_else(|| io::Error::from(io::ErrorKind::AlreadyExists));
    Err(Error::io(format!(
        "creating a fresh directory in {}",
        parent.display()
    ))(error))
}

/// Creates `dir`, mode 0700, owned by the server's user (who must own a data directory).
pub(crate) fn create_private_dir(dir: &Path, account: &Account) -> io::Result<()> {
    DirBuilder::new().mode(0o700).create(dir)?;
    account.chown(dir).inspect_err(|_| {
        let _ = fs::remove_dir(dir);
    })
}

/// Where the servers' directories go: `/dev/shm` when it has room, else `/tmp`.
///
/// Copying a cluster creates about a thousand files. On the ext4 disks of our CI machines that
/// costs about 1 ms a file (a 0.6 s start); on tmpfs, 8 ms in all. A server needs about 30 MB
/// and grows with its data, so a small `/dev/shm` (Docker's 64 MB) is left alone. Both paths
/// are short, as socket paths must be (107 bytes); `TMPDIR` could be deep.
pub(crate) fn instances_parent() -> PathBuf {
    const ROOM: u64 = 1 << 30;
    let shm = Path::new("/dev/shm");
    if available_bytes(shm).is_some_and(|bytes| bytes >= ROOM) {
        return shm.to_path_buf();
    }
    let tmp = Path::new("/tmp");
    if tmp.is_dir() {
        tmp.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// Free bytes on the file system of `path`, from `df -Pk` (POSIX output: the 4th column of
/// the 2nd line is the available 1024-byte blocks).
fn available_bytes(path: &Path) -> Option<u64> {
    if !path.is_dir() {
        return None;
    }
    let output = Command::new("df")
        .arg("-Pk")
        .arg(path)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let blocks: u64 = text
        .lines()
        .nth(1)?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()?;
    Some(blocks.saturating_mul(1024))
}

/// The length of [`unique_name`]'s names.
pub(crate) const UNIQUE_NAME_LEN: usize = 10;

/// Ten characters from 50 random bits: enough that concurrent processes do not collide, short
/// enough that `/tmp/pg-XXXXXXXXXX/.s.PGSQL.5432` stays far below the 107-byte socket limit.
pub(crate) fn unique_name() -> String {
    const _: () = assert!(UNIQUE_NAME_LEN * 5 <= 64);
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    // RandomState is seeded randomly per process; the counter and clock separate calls.
    let bits = RandomState::new().hash_one((
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        SystemTime::now(),
    ));
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    (0..10)
        .map(|i| char::from(ALPHABET[((bits >> (5 * i)) & 31) as usize]))
        .collect()
}

/// `<temp dir>/throwaway-postgres-<uid>`: ours (checked), mode 0711 so that the server's user
/// can reach the template inside it without listing or writing it.
pub(crate) fn cache_root(uid: u32) -> Result<PathBuf, Error> {
    let root = std::env::temp_dir().join(format!("throwaway-postgres-{uid}"));
    match DirBuilder::new().mode(0o711).create(&root) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
        Err(error) => return Err(Error::io(format!("creating {}", root.display()))(error)),
    }
    let metadata =
        fs::symlink_metadata(&root).map_err(Error::io(format!("reading {}", root.display())))?;
    if !metadata.is_dir() || metadata.uid() != uid {
        return Err(Error::Io {
            context: format!("refusing to cache a template in {}", root.display()),
            source: io::Error::other(format!(
                "it is not a directory owned by uid {uid}; remove it and try again"
            )),
        });
    }
    // The umask may have taken the x bits away.
    if metadata.mode() & 0o777 != 0o711 {
        fs::set_permissions(&root, fs::Permissions::from_mode(0o711))
            .map_err(Error::io(format!("setting the mode of {}", root.display())))?;
    }
    Ok(root)
}

/// Copies the tree at `from` to `to` (which must not exist), keeping modes, giving every
/// entry to the server's user. `fs::copy` lets the kernel copy (and reflink where it can).
pub(crate) fn copy_tree(from: &Path, to: &Path, account: &Account) -> io::Result<()> {
    let mode = fs::metadata(from)?.permissions().mode();
    DirBuilder::new().mode(mode & 0o7777).create(to)?;
    account.chown(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target, account)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(entry.path())?, &target)?;
            account.chown(&target)?;
        } else if kind.is_file() {
            fs::copy(entry.path(), &target)?;
            account.chown(&target)?;
        }
        // A stopped cluster holds no sockets or fifos; anything else is left out.
    }
    Ok(())
}

/// The last `lines` lines of the file at `path` (at most its last 64 KiB), or a note saying
/// why there is none.
pub(crate) fn tail(path: &Path, lines: usize) -> String {
    let read = || -> io::Result<String> {
        let mut file = fs::File::open(path)?;
        let length = file.metadata()?.len();
        file.seek(SeekFrom::Start(length.saturating_sub(64 * 1024)))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    match read() {
        Ok(text) => {
            let all: Vec<&str> = text.lines().collect();
            let tail = all[all.len().saturating_sub(lines)..].join("\n");
            if tail.is_empty() {
                format!("({} is empty)", path.display())
            } else {
                tail
            }
        }
        Err(error) => format!("(could not read {}: {error})", path.display()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn random_names_are_short_distinct_and_plain() {
        let a = unique_name();
        let b = unique_name();
        assert_eq!(a.len(), 10);
        assert_ne!(a, b);
        assert!(
            a.bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit()),
            "{a}"
        );
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let path = std::env::temp_dir().join(format!("throwaway-postgres-tail-{}", unique_name()));
        fs::write(&path, "one\ntwo\nthree\n").unwrap();
        let (last_two, all) = (tail(&path, 2), tail(&path, 10));
        fs::remove_file(&path).unwrap();
        assert_eq!(last_two, "two\nthree");
        assert_eq!(all, "one\ntwo\nthree");
        assert!(tail(&path, 2).starts_with("(could not read "));
    }

    #[test]
    fn copy_tree_copies_files_links_and_modes() {
        let root = std::env::temp_dir().join(format!("throwaway-postgres-copy-{}", unique_name()));
        let from = root.join("from");
        fs::create_dir_all(from.join("sub")).unwrap();
        fs::write(from.join("sub/file"), "content").unwrap();
        fs::set_permissions(from.join("sub/file"), fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::symlink("sub/file", from.join("link")).unwrap();
        let to = root.join("to");
        let copied = copy_tree(&from, &to, &Account::current_user());
        let content = fs::read_to_string(to.join("sub/file"));
        let mode = fs::metadata(to.join("sub/file")).map(|m| m.permissions().mode() & 0o777);
        let link = fs::read_link(to.join("link"));
        fs::remove_dir_all(&root).unwrap();
        copied.unwrap();
        assert_eq!(content.unwrap(), "content");
        assert_eq!(mode.unwrap(), 0o600);
        assert_eq!(link.unwrap(), Path::new("sub/file"));
    }
}
