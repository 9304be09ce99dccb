//! [`RlsError`]: why a scoped transaction could not start or end.

use std::fmt;

use crate::UnsupportedRole;

/// Why a scoped transaction could not start, commit or roll back.
///
/// What to branch on is [`kind`](RlsError::kind) (or the predicates); the underlying
/// `sqlx::Error`, when there is one, is the [`source`](std::error::Error::source).
/// Neither `Display` nor `Debug` includes the claims or a connection string; a database
/// error's `Display` includes sqlx's message for it.
pub struct RlsError {
    // Boxed: `Result<ScopedTransaction, RlsError>` stays small on the happy path.
    inner: Box<Inner>,
}

#[derive(Debug, thiserror::Error)]
enum Inner {
    #[error(transparent)]
    UnsupportedRole(UnsupportedRole),
    #[error("timed out waiting for a database connection from the pool")]
    PoolTimedOut(#[source] sqlx::Error),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

/// What kind of failure an [`RlsError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RlsErrorKind {
    /// The token's role is neither `authenticated` nor `anon`; no query ran.
    UnsupportedRole,
    /// Every connection of the pool was busy for the pool's whole acquire timeout. Usually
    /// a sign of load (or of transactions held too long), worth a 503 rather than a 500.
    PoolTimedOut,
    /// Anything else from the database or the connection: I/O, a refused statement, a
    /// closed pool.
    Database,
}

impl RlsError {
    /// What kind of failure this is.
    pub fn kind(&self) -> RlsErrorKind {
        match &*self.inner {
            Inner::UnsupportedRole(_) => RlsErrorKind::UnsupportedRole,
            Inner::PoolTimedOut(_) => RlsErrorKind::PoolTimedOut,
            Inner::Database(_) => RlsErrorKind::Database,
        }
    }

    /// The refused role, when this error is a refusal.
    pub fn unsupported_role(&self) -> Option<&UnsupportedRole> {
        match &*self.inner {
            Inner::UnsupportedRole(refused) => Some(refused),
            _ => None,
        }
    }

    /// Whether the pool had no free connection within its acquire timeout.
    pub fn is_pool_timeout(&self) -> bool {
        self.kind() == RlsErrorKind::PoolTimedOut
    }

    /// The sqlx error underneath, if there is one (to read a database error's SQLSTATE
    /// code, for instance).
    pub fn as_sqlx(&self) -> Option<&sqlx::Error> {
        match &*self.inner {
            Inner::UnsupportedRole(_) => None,
            Inner::PoolTimedOut(error) | Inner::Database(error) => Some(error),
        }
    }
}

impl From<sqlx::Error> for RlsError {
    fn from(error: sqlx::Error) -> Self {
        let inner = match error {
            sqlx::Error::PoolTimedOut => Inner::PoolTimedOut(error),
            error => Inner::Database(error),
        };
        Self {
            inner: Box::new(inner),
        }
    }
}

impl From<UnsupportedRole> for RlsError {
    fn from(refused: UnsupportedRole) -> Self {
        Self {
            inner: Box::new(Inner::UnsupportedRole(refused)),
        }
    }
}

impl fmt::Display for RlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)
    }
}

impl fmt::Debug for RlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RlsError")
            .field("kind", &self.kind())
            .field("inner", &self.inner)
            .finish()
    }
}

impl std::error::Error for RlsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source()
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn pool_timeout_is_its_own_kind_and_keeps_its_cause() {
        let error = RlsError::from(sqlx::Error::PoolTimedOut);
        assert_eq!(error.kind(), RlsErrorKind::PoolTimedOut);
        assert!(error.is_pool_timeout());
        assert!(error.unsupported_role().is_none());
        assert_eq!(
            error.to_string(),
            "timed out waiting for a database connection from the pool"
        );
        let source = error.source().and_then(|s| s.downcast_ref::<sqlx::Error>());
        assert!(matches!(source, Some(sqlx::Error::PoolTimedOut)));
        assert!(matches!(error.as_sqlx(), Some(sqlx::Error::PoolTimedOut)));
    }

    #[test]
    fn other_sqlx_errors_are_database_errors() {
        let error = RlsError::from(sqlx::Error::PoolClosed);
        assert_eq!(error.kind(), RlsErrorKind::Database);
        assert!(!error.is_pool_timeout());
        assert_eq!(
            error.to_string(),
            "database error: attempted to acquire a connection on a closed pool"
        );
        assert!(error.source().is_some());
    }
}
