//! The library's error type (for starting and driving the emulator, not HTTP errors).

use std::fmt;

/// What went wrong, for callers that want to branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The TCP listener could not be bound or served.
    Io,
    /// The database (SQLite, or PostgreSQL with `--database-url`) could not be opened,
    /// migrated or queried.
    Database,
    /// A signing key could not be generated, loaded or used.
    Keys,
    /// An argument was rejected (unknown key id, invalid email, ...).
    InvalidInput,
    /// A settings file (`supabase/config.toml`) could not be read, is not TOML, or
    /// has a value of the wrong type.
    Config,
}

/// An error from the emulator's Rust API.
///
/// Opaque on purpose: match on [`EmulatorError::kind`]. The message never holds
/// secrets (passwords, tokens, keys).
pub struct EmulatorError {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl EmulatorError {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn with_source(
        kind: ErrorKind,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            kind,
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    /// The same error, its message prefixed with the file it came from.
    pub(crate) fn in_file(mut self, path: &std::path::Path) -> Self {
        self.message = format!("{}: {}", path.display(), self.message);
        self
    }

    /// The category of this error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Debug for EmulatorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("source", &self.source.as_ref().map(|s| s.to_string()))
            .finish()
    }
}

impl fmt::Display for EmulatorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(source) => write!(f, "{}: {source}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for EmulatorError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

impl From<rusqlite::Error> for EmulatorError {
    fn from(e: rusqlite::Error) -> Self {
        Self::with_source(ErrorKind::Database, "database error", e)
    }
}

impl From<crate::store::DbError> for EmulatorError {
    fn from(e: crate::store::DbError) -> Self {
        Self::with_source(ErrorKind::Database, "database error", e)
    }
}
