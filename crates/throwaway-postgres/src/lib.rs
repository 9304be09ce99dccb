#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod dirs;
mod error;
mod install;
mod server;
mod sweep;
mod template;
mod url;

use std::fmt;
use std::path::PathBuf;

pub use error::Error;
pub use install::{BINDIR_VARIABLE, binaries};

use install::Setup;
use server::Server;
use template::Template;

/// A PostgreSQL server of its own, in a temporary directory, removed on drop.
///
/// The server listens only on a unix socket in that directory (mode 0700), so only this
/// process's user (and root) can reach it. It stops when this value is dropped or
/// [`stop`](Self::stop)ped, and also when the process dies without running destructors.
pub struct ThrowawayPostgres {
    url: String,
    dir: PathBuf,
    /// `None` once stopped.
    server: Option<Server>,
}

impl ThrowawayPostgres {
    /// Starts a fresh cluster whose superuser is `postgres` with no password (trust
    /// authentication, local connections only), and waits until it accepts connections.
    ///
    /// Blocking. The first start on a machine runs `initdb` into a cached template (about a
    /// second); later starts, from any process, copy that template and take about 50 ms.
    /// Under root, the server runs as the `postgres` user.
    pub fn start() -> Result<Self, Error> {
        let setup = Setup::get()?;
        let template = template::ensure(setup)?;
        match Self::start_from(setup, &template) {
            Ok(server) => Ok(server),
            // A cached template may have been damaged (a tmp cleaner, a full disk): rebuild
            // it once. A template built by this call is not suspect.
            Err(failure) if failure.template_suspect && !template.fresh => {
                template::discard(setup, &template)?;
                let template = template::ensure(setup)?;
                Self::start_from(setup, &template).map_err(|failure| failure.error)
            }
            Err(failure) => Err(failure.error),
        }
    }

    fn start_from(setup: &Setup, template: &Template) -> Result<Self, server::StartFailure> {
        let unrelated = |error| server::StartFailure {
            error,
            template_suspect: false,
        };
        sweep::sweep(&setup.instances, "pg-");
        let dir = dirs::unique_dir(&setup.instances, "pg-", &setup.account).map_err(unrelated)?;
        // Without it (no /proc), the directory is only left behind if this process is killed.
        let _ = sweep::record_owner(&dir);
        let data = dir.join("data");
        let started = dirs::copy_tree(&template.data, &data, &setup.account)
            .map_err(|source| server::StartFailure {
                error: Error::Io {
                    context: format!(
                        "copying the template {} to {}",
                        template.data.display(),
                        data.display()
                    ),
                    source,
                },
                // A template removed or damaged under us: rebuilding may help.
                template_suspect: true,
            })
            .and_then(|()| Server::start(setup, &dir, &data));
        match started {
            Ok(server) => {
                let url = url::connection_url(&dir, "postgres");
                Ok(ThrowawayPostgres {
                    url,
                    dir,
                    server: Some(server),
                })
            }
            Err(failure) => {
                let _ = std::fs::remove_dir_all(&dir);
                Err(failure)
            }
        }
    }

    /// The connection URL of the superuser `postgres` on database `postgres`, for sqlx
    /// (`PgConnectOptions::from_str`) and libpq (`psql`), e.g.
    /// `postgres://postgres@localhost:5432/postgres?host=/dev/shm/pg-abcdefghij`: the `host`
    /// parameter names the socket directory (in `/dev/shm` when it has room, else `/tmp`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The same server and user, database `name` (which the caller creates), percent-encoded.
    pub fn url_for_database(&self, name: &str) -> String {
        url::connection_url(&self.dir, name)
    }

    /// Stops the server (fast shutdown: open connections are closed) and waits for it to exit,
    /// then removes its directory. Dropping does the same.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        let Some(mut server) = self.server.take() else {
            return;
        };
        server.stop();
        drop(server);
        if let Err(error) = std::fs::remove_dir_all(&self.dir) {
            // Drop cannot return it; a leaked directory should not go unnoticed.
            eprintln!(
                "throwaway-postgres: could not remove {}: {error}",
                self.dir.display()
            );
        }
    }
}

impl Drop for ThrowawayPostgres {
    fn drop(&mut self) {
        self.shut_down();
    }
}

impl fmt::Debug for ThrowawayPostgres {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThrowawayPostgres")
            .field("url", &self.url)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}
