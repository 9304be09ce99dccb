//! Why a server could not be started.

use std::io;

/// Why a server could not be started.
///
/// Callers that fall back to another database when PostgreSQL is missing branch on
/// [`Error::is_not_installed`]; the other variants carry what is needed to fix the cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// PostgreSQL's server programs (`initdb`, `postgres`) were not found.
    #[error(
        "PostgreSQL is not installed: no initdb and postgres in $THROWAWAY_POSTGRES_BINDIR, \
         `pg_config --bindir` or /usr/lib/postgresql/*/bin; install them with `apt-get install postgresql` \
         (or run scripts/install-system-deps.sh), or set DATABASE_URL to an existing server"
    )]
    NotInstalled,
    /// A file, directory or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, with the path involved.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A helper program (`initdb`, `id`, ...) ran but failed.
    #[error("{context}: {output}")]
    Command {
        /// What was being done.
        context: String,
        /// The program's exit status and output.
        output: String,
    },
    /// The server exited during startup, or did not accept connections in time.
    #[error("{reason}; last lines of the server log:\n{log_tail}")]
    NotReady {
        /// What went wrong.
        reason: String,
        /// The end of the server's log.
        log_tail: String,
    },
}

impl Error {
    /// Whether PostgreSQL's server programs are missing, as opposed to present but failing.
    pub fn is_not_installed(&self) -> bool {
        matches!(self, Error::NotInstalled)
    }

    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
        let context = context.into();
        move |source| Error::Io { context, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_installed_is_told_apart_and_says_how_to_fix_it() {
        let error = Error::NotInstalled;
        assert!(error.is_not_installed());
        let message = error.to_string();
        assert!(message.contains("apt-get install postgresql"), "{message}");
        assert!(message.contains("DATABASE_URL"), "{message}");

        let other = Error::io("reading /x")(io::Error::from(io::ErrorKind::NotFound));
        assert!(!other.is_not_installed());
        assert_eq!(other.to_string(), "reading /x: entity not found");
        assert!(std::error::Error::source(&other).is_some());
    }
}
