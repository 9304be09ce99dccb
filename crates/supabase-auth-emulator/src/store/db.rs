//! One SQL text for two databases: SQLite (the default) and PostgreSQL.
//!
//! The store's queries are written once, in the SQL both databases accept, with `?N`
//! placeholders and plain values ([`Value`]: text, integers, booleans, bytes). What
//! differs is handled here:
//! - **Placeholders:** `?N` becomes PostgreSQL's `$N`, and `rowid` (insertion order,
//!   which SQLite keeps) becomes `ctid` (heap order, what GoTrue's unordered queries get).
//! - **Types:** PostgreSQL infers each parameter's type from the prepared statement, and
//!   [`PgValue`] writes the value in that type's binary form: integer microseconds as
//!   `timestamptz`, text as `uuid` or `jsonb`. Reading does the reverse ([`Cell`]), so
//!   a row reads the same from either database.
//! - **Ids that are not UUIDs:** in SQLite, `WHERE id = 'junk'` matches nothing. In
//!   PostgreSQL the text cannot be bound to a `uuid` parameter, so it is bound as `NULL`,
//!   which matches nothing too (and fails an insert, as it should). The store's SQL
//!   therefore compares ids only with `=`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt;

use bytes::{BufMut as _, BytesMut};
use postgres::types::{IsNull, ToSql, Type};

/// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01T00:00:00Z).
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// A database error from either store, or a value of the wrong kind in a row.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DbError {
    /// SQLite failed.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed (a constraint, a trigger of the application, the connection).
    #[error("{}", postgres_text(.0))]
    Postgres(#[from] postgres::Error),
    /// A statement that had to find a row found none.
    #[error("no row found")]
    NoRow,
    /// A column held a value the emulator cannot read as the type it needs.
    #[error("column {column}: {what}")]
    Column {
        /// The column's position in the select list.
        column: usize,
        /// What was wrong.
        what: String,
    },
    /// The PostgreSQL server could not be reached (again).
    #[error("cannot reach {0}")]
    Unreachable(String),
    /// A statement needed several attempts (a random value collided every time).
    #[error("{0}")]
    Exhausted(&'static str),
}

/// A PostgreSQL error with the server's own words: `postgres::Error` displays only
/// "db error" for them. The message names the constraint or carries the text of an
/// application's `raise exception`; its DETAIL is left out, as it can quote row values
/// (a token's hash in a unique violation).
fn postgres_text(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

/// The store's result type.
pub(crate) type DbResult<T> = Result<T, DbError>;

/// A parameter value, borrowed from the caller.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    /// SQL `NULL`.
    Null,
    /// An integer; also a time in microseconds since the Unix epoch.
    Int(i64),
    /// Text; also a UUID or a JSON document.
    Text(&'a str),
    /// A boolean (SQLite stores 0 or 1).
    Bool(bool),
    /// Bytes.
    Blob(&'a [u8]),
}

/// What can be bound to a placeholder.
pub(crate) trait Param {
    /// The value to bind.
    fn value(&self) -> Value<'_>;
}

impl Param for str {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}
impl Param for String {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}
impl Param for i64 {
    fn value(&self) -> Value<'_> {
        Value::Int(*self)
    }
}
impl Param for bool {
    fn value(&self) -> Value<'_> {
        Value::Bool(*self)
    }
}
impl Param for [u8] {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}
impl Param for Vec<u8> {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}
impl<T: Param + ?Sized> Param for &T {
    fn value(&self) -> Value<'_> {
        (**self).value()
    }
}
impl<T: Param> Param for Option<T> {
    fn value(&self) -> Value<'_> {
        self.as_ref().map_or(Value::Null, Param::value)
    }
}

/// The parameters of one statement: `params![a, b, c]`.
macro_rules! params {
    ($($p:expr),* $(,)?) => {
        &[$(&$p as &dyn $crate::store::db::Param),*] as &[&dyn $crate::store::db::Param]
    };
}
pub(crate) use params;

/// A value read from a row, whichever database it came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    /// SQL `NULL`.
    Null,
    /// An integer, a boolean stored by SQLite, or a time in Unix microseconds.
    Int(i64),
    /// A PostgreSQL boolean.
    Bool(bool),
    /// Text, a UUID in its hyphenated form, or a JSON document.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

/// A Rust type a [`Cell`] converts to.
pub(crate) trait FromCell: Sized {
    /// The conversion; `Err` holds what was wrong.
    fn from_cell(cell: Cell) -> Result<Self, String>;
}

impl FromCell for String {
    /// `NULL` reads as `""`: GoTrue stores NULL for an absent email or phone, where the
    /// emulator's rows (and GoTrue's JSON) use the empty string.
    fn from_cell(cell: Cell) -> Result<Self, String> {
        match cell {
            Cell::Text(s) => Ok(s),
            Cell::Null => Ok(String::new()),
            other => Err(format!("expected text, found {other:?}")),
        }
    }
}
impl FromCell for i64 {
    fn from_cell(cell: Cell) -> Result<Self, String> {
        match cell {
            Cell::Int(n) => Ok(n),
            Cell::Bool(b) => Ok(i64::from(b)),
            other => Err(format!("expected an integer, found {other:?}")),
        }
    }
}
impl FromCell for bool {
    fn from_cell(cell: Cell) -> Result<Self, String> {
        match cell {
            Cell::Bool(b) => Ok(b),
            Cell::Int(n) => Ok(n != 0),
            other => Err(format!("expected a boolean, found {other:?}")),
        }
    }
}
impl FromCell for Vec<u8> {
    fn from_cell(cell: Cell) -> Result<Self, String> {
        match cell {
            Cell::Blob(b) => Ok(b),
            Cell::Text(s) => Ok(s.into_bytes()),
            other => Err(format!("expected bytes, found {other:?}")),
        }
    }
}
impl<T: FromCell> FromCell for Option<T> {
    fn from_cell(cell: Cell) -> Result<Self, String> {
        match cell {
            Cell::Null => Ok(None),
            other => T::from_cell(other).map(Some),
        }
    }
}

/// One row of a result.
pub(crate) enum Row<'r> {
    /// A SQLite row.
    Sqlite(&'r rusqlite::Row<'r>),
    /// A PostgreSQL row.
    Postgres(&'r postgres::Row),
}

impl Row<'_> {
    /// Column `column` as `T`.
    pub(crate) fn get<T: FromCell>(&self, column: usize) -> DbResult<T> {
        let cell = match self {
            Self::Sqlite(r) => sqlite_cell(r.get_ref(column)?),
            Self::Postgres(r) => r.try_get::<_, Cell>(column)?,
        };
        T::from_cell(cell).map_err(|what| DbError::Column { column, what })
    }
}

fn sqlite_cell(v: rusqlite::types::ValueRef<'_>) -> Cell {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(n) => Cell::Int(n),
        // The emulator stores no floating-point values; read one as its integer part.
        #[allow(clippy::cast_possible_truncation)]
        ValueRef::Real(f) => Cell::Int(f as i64),
        ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Cell::Blob(b.to_vec()),
    }
}

/// The open transaction a unit of work runs in.
pub(crate) struct Db<'a> {
    inner: Inner<'a>,
}

enum Inner<'a> {
    Sqlite(&'a rusqlite::Connection),
    Postgres {
        tx: RefCell<postgres::Transaction<'a>>,
        statements: &'a RefCell<HashMap<String, postgres::Statement>>,
    },
}

impl fmt::Debug for Db<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.inner {
            Inner::Sqlite(_) => "Db(SQLite)",
            Inner::Postgres { .. } => "Db(PostgreSQL)",
        })
    }
}

impl<'a> Db<'a> {
    pub(super) fn sqlite(conn: &'a rusqlite::Connection) -> Self {
        Self {
            inner: Inner::Sqlite(conn),
        }
    }

    pub(super) fn postgres(
        tx: postgres::Transaction<'a>,
        statements: &'a RefCell<HashMap<String, postgres::Statement>>,
    ) -> Self {
        Self {
            inner: Inner::Postgres {
                tx: RefCell::new(tx),
                statements,
            },
        }
    }

    /// Commits a PostgreSQL transaction (SQLite's is committed by its owner).
    pub(super) fn commit(self) -> DbResult<()> {
        match self.inner {
            Inner::Sqlite(_) => Ok(()),
            Inner::Postgres { tx, .. } => Ok(tx.into_inner().commit()?),
        }
    }

    /// Runs a statement; the number of rows it changed.
    pub(crate) fn execute(&self, sql: &str, params: &[&dyn Param]) -> DbResult<usize> {
        match &self.inner {
            Inner::Sqlite(c) => Ok(c.prepare_cached(sql)?.execute(sqlite_params(params))?),
            Inner::Postgres { tx, statements } => {
                let mut tx = tx.borrow_mut();
                let stmt = prepare(&mut tx, statements, sql)?;
                let values = pg_values(&stmt, params);
                let n = tx.execute(&stmt, &pg_refs(&values))?;
                Ok(usize::try_from(n).unwrap_or(usize::MAX))
            }
        }
    }

    /// Every row of a query, each read by `f`.
    pub(crate) fn query_map<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        mut f: impl FnMut(&Row<'_>) -> DbResult<T>,
    ) -> DbResult<Vec<T>> {
        match &self.inner {
            Inner::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(sqlite_params(params))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    out.push(f(&Row::Sqlite(r))?);
                }
                Ok(out)
            }
            Inner::Postgres { tx, statements } => {
                let mut tx = tx.borrow_mut();
                let stmt = prepare(&mut tx, statements, sql)?;
                let values = pg_values(&stmt, params);
                let rows = tx.query(&stmt, &pg_refs(&values))?;
                drop(tx);
                rows.iter().map(|r| f(&Row::Postgres(r))).collect()
            }
        }
    }

    /// The first row of a query read by `f`, or [`DbError::NoRow`].
    pub(crate) fn query_row<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        f: impl FnOnce(&Row<'_>) -> DbResult<T>,
    ) -> DbResult<T> {
        let mut f = Some(f);
        let mut first = None;
        // Reads only the first row; the queries that use this select at most one.
        let _ = self.query_map(sql, params, |r| {
            if let Some(f) = f.take() {
                first = Some(f(r)?);
            }
            Ok(())
        })?;
        first.ok_or(DbError::NoRow)
    }
}

/// `col = excluded.col` for every column but the first (the conflict target), for
/// `INSERT ... ON CONFLICT (first) DO UPDATE SET` in either database.
pub(crate) fn excluded(columns: &str) -> String {
    columns
        .split(',')
        .map(str::trim)
        .skip(1)
        .map(|col| format!("{col} = excluded.{col}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `query_row(...).optional()`: no row is `None`.
pub(crate) trait OptionalExt<T> {
    /// `Ok(None)` in place of [`DbError::NoRow`].
    fn optional(self) -> DbResult<Option<T>>;
}

impl<T> OptionalExt<T> for DbResult<T> {
    fn optional(self) -> DbResult<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(DbError::NoRow) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn sqlite_params<'p>(
    params: &'p [&'p dyn Param],
) -> rusqlite::ParamsFromIter<impl Iterator<Item = SqliteValue<'p>>> {
    rusqlite::params_from_iter(params.iter().map(|p| SqliteValue(p.value())))
}

struct SqliteValue<'a>(Value<'a>);

impl rusqlite::ToSql for SqliteValue<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Value::Null => ValueRef::Null,
            Value::Int(n) => ValueRef::Integer(n),
            Value::Bool(b) => ValueRef::Integer(i64::from(b)),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

/// `?N` → `$N`, `rowid` → `ctid`. The store's SQL has no `?` or `rowid` inside quotes.
pub(crate) fn to_postgres_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(i) = rest.find(['?', 'r']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix('?') {
            out.push('$');
            rest = after;
        } else if tail.starts_with("rowid")
            && !out.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            && !tail[5..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        {
            out.push_str("ctid");
            rest = &tail[5..];
        } else {
            out.push('r');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

fn prepare(
    tx: &mut postgres::Transaction<'_>,
    statements: &RefCell<HashMap<String, postgres::Statement>>,
    sql: &str,
) -> DbResult<postgres::Statement> {
    if let Some(stmt) = statements.borrow().get(sql) {
        return Ok(stmt.clone());
    }
    let stmt = tx.prepare(&to_postgres_sql(sql))?;
    statements.borrow_mut().insert(sql.to_owned(), stmt.clone());
    Ok(stmt)
}

/// The values to bind: a text that is not a UUID, bound to a `uuid` parameter, becomes
/// `NULL` (see the module's documentation).
fn pg_values<'p>(stmt: &postgres::Statement, params: &'p [&'p dyn Param]) -> Vec<PgValue<'p>> {
    params
        .iter()
        .zip(stmt.params())
        .map(|(p, ty)| match p.value() {
            Value::Text(s) if *ty == Type::UUID && uuid::Uuid::try_parse(s).is_err() => {
                PgValue(Value::Null)
            }
            v => PgValue(v),
        })
        .collect()
}

fn pg_refs<'v>(values: &'v [PgValue<'_>]) -> Vec<&'v (dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

/// A [`Value`] written in the binary form of the parameter's PostgreSQL type.
#[derive(Debug)]
pub(crate) struct PgValue<'a>(Value<'a>);

type BoxError = Box<dyn StdError + Sync + Send>;

fn mismatch(v: Value<'_>, ty: &Type) -> BoxError {
    // The value itself is left out: it may be a password hash or a token.
    let kind = match v {
        Value::Null => "null",
        Value::Int(_) => "an integer",
        Value::Text(_) => "text",
        Value::Bool(_) => "a boolean",
        Value::Blob(_) => "bytes",
    };
    format!("cannot bind {kind} to a parameter of type {ty}").into()
}

impl ToSql for PgValue<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let v = self.0;
        match (v, ty) {
            (Value::Null, _) => return Ok(IsNull::Yes),
            (Value::Bool(b), &Type::BOOL) => out.put_u8(u8::from(b)),
            (Value::Int(n), &Type::BOOL) => out.put_u8(u8::from(n != 0)),
            (Value::Int(n), &Type::INT8) => out.put_i64(n),
            (Value::Int(n), &Type::INT4) => out.put_i32(i32::try_from(n)?),
            (Value::Int(n), &Type::INT2) => out.put_i16(i16::try_from(n)?),
            (Value::Int(micros), &Type::TIMESTAMPTZ | &Type::TIMESTAMP) => {
                out.put_i64(micros - PG_EPOCH_MICROS);
            }
            (Value::Text(s), &Type::UUID) => out.put_slice(uuid::Uuid::try_parse(s)?.as_bytes()),
            (Value::Text(s), &Type::JSONB) => {
                // jsonb's binary form: a version byte, then the JSON text.
                out.put_u8(1);
                out.put_slice(s.as_bytes());
            }
            (Value::Blob(b), &Type::BYTEA) => out.put_slice(b),
            (Value::Text(s), _) if is_textual(ty) => out.put_slice(s.as_bytes()),
            _ => return Err(mismatch(v, ty)),
        }
        Ok(IsNull::No)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// Types whose binary form is their text: text, varchar, char, name, json, and enums.
fn is_textual(ty: &Type) -> bool {
    matches!(
        *ty,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::JSON | Type::UNKNOWN
    ) || matches!(ty.kind(), postgres::types::Kind::Enum(_))
}

impl<'a> postgres::types::FromSql<'a> for Cell {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let be8 = || -> Result<i64, BoxError> { Ok(i64::from_be_bytes(raw.try_into()?)) };
        Ok(match *ty {
            Type::BOOL => Cell::Bool(raw.first().is_some_and(|b| *b != 0)),
            Type::INT8 => Cell::Int(be8()?),
            Type::INT4 => Cell::Int(i64::from(i32::from_be_bytes(raw.try_into()?))),
            Type::INT2 => Cell::Int(i64::from(i16::from_be_bytes(raw.try_into()?))),
            Type::TIMESTAMPTZ | Type::TIMESTAMP => Cell::Int(be8()? + PG_EPOCH_MICROS),
            Type::UUID => Cell::Text(uuid::Uuid::from_slice(raw)?.hyphenated().to_string()),
            Type::JSONB => match raw.split_first() {
                Some((1, json)) => Cell::Text(std::str::from_utf8(json)?.to_owned()),
                _ => return Err("unknown jsonb version".into()),
            },
            Type::BYTEA => Cell::Blob(raw.to_vec()),
            _ if is_textual(ty) => Cell::Text(std::str::from_utf8(raw)?.to_owned()),
            _ => return Err(format!("cannot read a column of type {ty}").into()),
        })
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Cell::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_rowid_become_postgres_spelling() {
        assert_eq!(
            to_postgres_sql(
                "SELECT a FROM t WHERE x = ?1 AND y = ?12 ORDER BY created_at, rowid DESC"
            ),
            "SELECT a FROM t WHERE x = $1 AND y = $12 ORDER BY created_at, ctid DESC"
        );
        // Words that contain `rowid` or start with `r` are left alone.
        assert_eq!(
            to_postgres_sql("UPDATE refresh_tokens SET revoked = TRUE, my_rowid = ?2, rowids"),
            "UPDATE refresh_tokens SET revoked = TRUE, my_rowid = $2, rowids"
        );
    }

    #[test]
    fn cells_convert_to_the_rust_types_the_store_reads() {
        assert_eq!(String::from_cell(Cell::Null), Ok(String::new()));
        assert_eq!(Option::<String>::from_cell(Cell::Null), Ok(None));
        assert_eq!(bool::from_cell(Cell::Int(1)), Ok(true));
        assert_eq!(i64::from_cell(Cell::Bool(true)), Ok(1));
        assert!(i64::from_cell(Cell::Null).is_err());
        assert!(String::from_cell(Cell::Int(3)).is_err());
    }
}
