//! `/api/notes`: the same notes as JSON, for callers with `Authorization: Bearer <access
//! token>` (`ApiAuthLayer` with `AuthMode::User`; cookies are ignored). Errors are
//! `{"code", "message"}`, as the layer's own.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde_json::Value;
use supabase_ssr_axum::ApiError;
use supabase_ssr_postgres::axum::{Db, database_error};

use crate::notes::{self, Note, check_body};
use crate::state::Shared;

/// `GET /api/notes`: the caller's notes, oldest first.
pub(crate) async fn list(mut db: Db) -> Result<Json<Vec<Note>>, ApiError> {
    notes::list(&mut db).await.map(Json).map_err(database_error)
}

/// `POST /api/notes` with `{"body": "..."}`: `201` with the new row.
pub(crate) async fn create(
    mut db: Db,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Note>), ApiError> {
    // Too large (past axum's limit) or unreadable: the same JSON error shape.
    let body = body.map_err(|r| ApiError::new(r.status(), "invalid_body", r.body_text()))?;
    let text = note_text(&body)?;
    let note = notes::insert(&mut db, &text)
        .await
        .map_err(database_error)?;
    Ok((StatusCode::CREATED, Json(note)))
}

/// Any other path under `/api`.
pub(crate) async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such API route")
}

/// A method `/api/notes` does not answer.
pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not answer that method",
    )
}

/// Any `/api/notes` request without a database.
pub(crate) async fn unavailable(State(app): State<Shared>) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "database_unavailable",
        app.notes_unavailable.clone(),
    )
}

/// The checked `body` of a JSON request. Read by hand rather than with `Json<T>`, so
/// that every bad body is one `400 invalid_body` (not axum's 415 or 422).
fn note_text(raw: &[u8]) -> Result<String, ApiError> {
    let invalid =
        |message: &'static str| ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", message);
    let value: Value = serde_json::from_slice(raw)
        .map_err(|_| invalid("the request body must be JSON: {\"body\": \"...\"}"))?;
    let text = value
        .get("body")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("`body` must be a string"))?;
    check_body(text)
        .map(str::to_owned)
        .map_err(|reason| invalid(reason.message()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(raw: &str) -> String {
        match note_text(raw.as_bytes()) {
            Err(e) => format!("{} {}: {}", e.status().as_u16(), e.code(), e.message()),
            Ok(text) => panic!("accepted {text:?}"),
        }
    }

    #[test]
    fn only_a_json_object_with_a_string_body_is_a_note() {
        assert_eq!(
            note_text(br#"{"body": " hi "}"#).ok().as_deref(),
            Some("hi")
        );
        let not_json = "400 invalid_body: the request body must be JSON: {\"body\": \"...\"}";
        assert_eq!(refused(""), not_json);
        assert_eq!(refused("{"), not_json);
        assert_eq!(refused(&"[".repeat(10_000)), not_json);
        let not_string = "400 invalid_body: `body` must be a string";
        for raw in ["{}", "[]", "\"x\"", r#"{"body": 1}"#, r#"{"body": null}"#] {
            assert_eq!(refused(raw), not_string, "{raw}");
        }
        assert_eq!(
            refused(r#"{"body": "  "}"#),
            "400 invalid_body: The note is empty."
        );
        assert_eq!(
            refused(r#"{"body": "a\u0000b"}"#),
            "400 invalid_body: The note contains a NUL character."
        );
    }
}
