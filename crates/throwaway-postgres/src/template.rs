//! The cached template cluster: `initdb` once per machine, PostgreSQL build and user.
//!
//! `initdb` takes most of a second; copying its result takes milliseconds. The template lives
//! in `<temp dir>/throwaway-postgres-<uid>/<version>-<hash>/data`. Its creation is serialised
//! across processes by a lock file next to it, and it is built under another name and renamed
//! into place, so a template that exists is complete (the `id` file inside says so).

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use crate::Error;
use crate::dirs;
use crate::install::{Setup, run};

/// A complete template cluster.
#[derive(Debug)]
pub(crate) struct Template {
    /// The cluster's data directory, to be copied, never started.
    pub(crate) data: PathBuf,
    /// Random per build: a process that found the template broken discards this build only,
    /// not one another process has rebuilt since.
    id: String,
    /// Built by this call, so a failure to start from it is not the cache's fault.
    pub(crate) fresh: bool,
}

/// The template for this PostgreSQL, built now if missing.
pub(crate) fn ensure(setup: &Setup) -> Result<Template, Error> {
    let root = dirs::cache_root(setup.uid)?;
    let path = root.join(&setup.template_key);
    if let Some(template) = existing(&path) {
        return Ok(template);
    }
    let _lock = lock(&root, &setup.template_key)?;
    // Another process may have built it while we waited for the lock.
    if let Some(template) = existing(&path) {
        return Ok(template);
    }
    // Holding the lock, anything under these names is left over from a killed build.
    let building = root.join(format!("{}.building", setup.template_key));
    remove_if_present(&building)?;
    remove_if_present(&path)?;
    let built = build(setup, &building).and_then(|id| {
        fs::rename(&building, &path).map_err(Error::io(format!(
            "renaming {} into place",
            building.display()
        )))?;
        Ok(id)
    });
    match built {
        Ok(id) => Ok(Template {
            data: path.join("data"),
            id,
            fresh: true,
        }),
        Err(error) => {
            let _ = fs::remove_dir_all(&building);
            Err(error)
        }
    }
}

/// Removes `template` if it is still the cached one, so that the next [`ensure`] rebuilds it.
pub(crate) fn discard(setup: &Setup, template: &Template) -> Result<(), Error> {
    let root = dirs::cache_root(setup.uid)?;
    let path = root.join(&setup.template_key);
    let _lock = lock(&root, &setup.template_key)?;
    if existing(&path).is_some_and(|current| current.id == template.id) {
        let discarded = root.join(format!("{}.discarded", setup.template_key));
        remove_if_present(&discarded)?;
        fs::rename(&path, &discarded)
            .map_err(Error::io(format!("discarding {}", path.display())))?;
        remove_if_present(&discarded)?;
    }
    Ok(())
}

fn existing(path: &Path) -> Option<Template> {
    let id = fs::read_to_string(path.join("id")).ok()?;
    Some(Template {
        data: path.join("data"),
        id,
        fresh: false,
    })
}

/// Runs `initdb` into `<dir>/data` as the server's user and writes `<dir>/id`; returns the id.
fn build(setup: &Setup, dir: &Path) -> Result<String, Error> {
    dirs::create_private_dir(dir, &setup.account)
        .map_err(Error::io(format!("creating {}", dir.display())))?;
    let data = dir.join("data");
    let mut initdb = setup.account.command(setup.bindir.join("initdb"));
    initdb
        .arg("-D")
        .arg(&data)
        // Trust: the socket directory is 0700, so only the server's user and root reach it.
        .args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        ])
        // 1 MiB WAL segments instead of 16: less to copy on every start.
        .arg("--wal-segsize=1")
        // initdb needs a working directory its user can enter; ours may not be.
        .current_dir(dir);
    run(
        &mut initdb,
        &format!("initdb of the template cluster in {}", data.display()),
    )?;
    let id = dirs::unique_name();
    fs::write(dir.join("id"), &id).map_err(Error::io(format!("writing {}/id", dir.display())))?;
    Ok(id)
}

/// Blocks until this process holds the template's lock file; released on drop.
fn lock(root: &Path, key: &str) -> Result<File, Error> {
    let path = root.join(format!("{key}.lock"));
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(Error::io(format!("opening {}", path.display())))?;
    file.lock()
        .map_err(Error::io(format!("locking {}", path.display())))?;
    Ok(file)
}

fn remove_if_present(path: &Path) -> Result<(), Error> {
    match fs::remove_dir_all(path) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => {
            Err(Error::io(format!("removing {}", path.display()))(error))
        }
        _ => Ok(()),
    }
}
