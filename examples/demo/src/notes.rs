//! The `notes` table, as the page and the API use it: every query runs on a [`Db`]
//! (a transaction as the request's verified user), and none has a `where user_id = ...`:
//! the table's row-level-security policies decide which rows exist for the caller.

use serde::Serialize;
use sqlx::PgConnection;

/// The longest note, in characters.
pub(crate) const MAX_BODY_CHARS: usize = 2000;

/// A row of `public.notes`, as the API answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub(crate) struct Note {
    pub(crate) id: i64,
    pub(crate) user_id: String,
    pub(crate) body: String,
}

/// Why a note's text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    Empty,
    TooLong,
    /// PostgreSQL's `text` cannot hold U+0000.
    NulCharacter,
}

impl BodyError {
    pub(crate) fn message(self) -> &'static str {
        match self {
            Self::Empty => "The note is empty.",
            Self::TooLong => "The note is longer than 2000 characters.",
            Self::NulCharacter => "The note contains a NUL character.",
        }
    }
}

/// The note to store: `raw` without surrounding whitespace, when it is acceptable.
pub(crate) fn check_body(raw: &str) -> Result<&str, BodyError> {
    let body = raw.trim();
    if body.is_empty() {
        Err(BodyError::Empty)
    } else if body.chars().nth(MAX_BODY_CHARS).is_some() {
        Err(BodyError::TooLong)
    } else if body.contains('\0') {
        Err(BodyError::NulCharacter)
    } else {
        Ok(body)
    }
}

/// The caller's notes, oldest first. No filter: RLS returns only the caller's rows.
pub(crate) async fn list(db: &mut PgConnection) -> Result<Vec<Note>, sqlx::Error> {
    sqlx::query_as("select id, user_id::text as user_id, body from public.notes order by id")
        .fetch_all(db)
        .await
}

/// Adds a note for the caller: `user_id` defaults to `auth.uid()`, and the insert policy
/// refuses any other.
pub(crate) async fn insert(db: &mut PgConnection, body: &str) -> Result<Note, sqlx::Error> {
    sqlx::query_as(
        "insert into public.notes (body) values ($1) \
         returning id, user_id::text as user_id, body",
    )
    .bind(body)
    .fetch_one(db)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_trimmed_and_checked() {
        assert_eq!(check_body("  hello \n"), Ok("hello"));
        assert_eq!(check_body(""), Err(BodyError::Empty));
        assert_eq!(check_body(" \r\n\t"), Err(BodyError::Empty));
        assert_eq!(check_body("a\0b"), Err(BodyError::NulCharacter));
        let longest = "é".repeat(MAX_BODY_CHARS);
        assert_eq!(check_body(&longest), Ok(longest.as_str()));
        assert_eq!(check_body(&format!("{longest}x")), Err(BodyError::TooLong));
    }
}
