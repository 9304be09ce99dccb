//! The routes: exactly `/health`, `/me`, `/me-optional`, `/notes`, `/all-notes` and
//! `/profile`.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::PgPool;
use supabase_ssr::SupabaseAuth;
use supabase_ssr::api_auth::{AuthMode, VerifiedUser};
use supabase_ssr_axum::{ApiAuthLayer, ApiError, ApiUser};
use supabase_ssr_postgres::axum::{AdminDb, Db, RlsLayer, database_error, rls_error};
use supabase_ssr_postgres::{DbIdentity, RlsPool};
use tower_http::cors::{Any, CorsLayer};

/// The largest request body read, in bytes.
const MAX_BODY: usize = 64 * 1024;

/// A row of `notes`, as the API shows it.
#[derive(Debug, Serialize, sqlx::FromRow)]
struct Note {
    id: i64,
    user_id: String,
    body: String,
}

/// A row of `profiles`, as the API shows it.
#[derive(Debug, Serialize, sqlx::FromRow)]
struct Profile {
    id: String,
    display_name: Option<String>,
    /// RFC 3339, UTC, in microseconds.
    created_at: String,
}

/// PostgreSQL's `undefined_table`.
const UNDEFINED_TABLE: &str = "42P01";

/// The API over `auth` (bearer tokens) and `pool` (the database, connected as a role
/// that can `set role` to `authenticated`).
pub fn router(auth: SupabaseAuth, pool: PgPool) -> Router {
    let user = ApiAuthLayer::new(auth.clone(), [AuthMode::User]);
    let user_or_nobody = ApiAuthLayer::new(auth, [AuthMode::User, AuthMode::None]);
    let signed_in = Router::new()
        .route("/me", get(me))
        .route("/notes", get(list_notes).post(create_note))
        .route("/all-notes", get(all_notes))
        .route("/profile", get(profile))
        .route_layer(user);
    let optional = Router::new()
        .route("/me-optional", get(me_optional))
        .route_layer(user_or_nobody);
    Router::new()
        .route("/health", get(health))
        .merge(signed_in)
        .merge(optional)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(RlsLayer::new(RlsPool::new(pool.clone())))
        // Outermost: preflights are answered before auth, and refusals carry CORS
        // headers too.
        .layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([
                    HeaderName::from_static("authorization"),
                    HeaderName::from_static("apikey"),
                    HeaderName::from_static("content-type"),
                ])
                .max_age(Duration::from_secs(3600)),
        )
        .with_state(pool)
}

/// `{"id","email","role"}` of a verified user.
fn user_claims(user: &VerifiedUser) -> Value {
    let claims = user.claims();
    json!({ "id": user.id(), "email": claims.email, "role": claims.role })
}

/// `GET /health`: 200 `{"status":"ok"}` once the database answers.
async fn health(State(pool): State<PgPool>) -> Response {
    match sqlx::query("select 1").execute(&pool).await {
        Ok(_) => Json(json!({ "status": "ok" })).into_response(),
        Err(error) => {
            tracing::warn!(%error, "notes-api: the database does not answer");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                "the database does not answer",
            )
            .into_response()
        }
    }
}

/// `GET /me`: the caller's claims; a valid bearer token required.
async fn me(ApiUser(user): ApiUser) -> Json<Value> {
    Json(json!({ "userClaims": user_claims(&user) }))
}

/// `GET /me-optional`: the caller's claims, or `null` without a token (an invalid one
/// is still a 401).
async fn me_optional(user: Option<ApiUser>) -> Json<Value> {
    let claims = user.map(|ApiUser(user)| user_claims(&user));
    Json(json!({ "userClaims": claims }))
}

/// `GET /notes`: the caller's notes. No WHERE clause: row-level security picks them.
async fn list_notes(mut db: Db) -> Result<Json<Vec<Note>>, ApiError> {
    let notes = sqlx::query_as::<_, Note>("select id, user_id::text, body from notes order by id")
        .fetch_all(&mut *db)
        .await
        .map_err(database_error)?;
    Ok(Json(notes))
}

/// `POST /notes` `{"body": "..."}`: 201 with the new row. `user_id` is filled in by the
/// database from the token (`default auth.uid()`), and the insert policy checks it.
async fn create_note(
    mut db: Db,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Note>), ApiError> {
    let text = note_body(body)?;
    let note = sqlx::query_as::<_, Note>(
        "insert into notes (body) values ($1) returning id, user_id::text, body",
    )
    .bind(text)
    .fetch_one(&mut *db)
    .await
    .map_err(database_error)?;
    Ok((StatusCode::CREATED, Json(note)))
}

/// The `body` string of a `{"body": "..."}` request: 400 (not axum's 422) for anything
/// else, 413 past [`MAX_BODY`].
fn note_body(body: Result<Bytes, BytesRejection>) -> Result<String, ApiError> {
    let bytes = body.map_err(|rejection| {
        let status = rejection.status();
        ApiError::new(status, "invalid_body", rejection.body_text())
    })?;
    let invalid =
        |message: &'static str| ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", message);
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|_| invalid("the body must be a JSON object"))?;
    match value.get("body") {
        Some(Value::String(text)) if !text.is_empty() => Ok(text.clone()),
        Some(Value::String(_)) => Err(invalid("`body` must not be empty")),
        Some(_) => Err(invalid("`body` must be a string")),
        None => Err(invalid("`body` is missing")),
    }
}

/// `GET /all-notes`: every user's notes, through the explicit admin path (RLS
/// bypassed). Still only for signed-in users whose role the database would accept.
async fn all_notes(ApiUser(user): ApiUser, mut db: AdminDb) -> Result<Json<Vec<Note>>, ApiError> {
    DbIdentity::from_claims(user.claims()).map_err(|e| rls_error(e.into()))?;
    let notes = sqlx::query_as::<_, Note>("select id, user_id::text, body from notes order by id")
        .fetch_all(&mut *db)
        .await
        .map_err(database_error)?;
    Ok(Json(notes))
}

/// `GET /profile`: the caller's row of `profiles`, made by the trigger on `auth.users`.
/// No WHERE clause: row-level security lets only the caller's row through. `404` when
/// there is none (the user was deleted since the token was issued), `503` on a database
/// without the table (a real project's, unless `profiles.sql` was run there).
async fn profile(mut db: Db) -> Result<Json<Profile>, ApiError> {
    let row = sqlx::query_as::<_, Profile>(
        "select id::text, display_name, \
         to_char(created_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') as created_at \
         from public.profiles",
    )
    .fetch_optional(&mut *db)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.code().as_deref() == Some(UNDEFINED_TABLE) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "profiles_unavailable",
            "this database has no public.profiles table",
        ),
        _ => database_error(e),
    })?;
    row.map(Json).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "profile_not_found",
            "there is no profile for this user",
        )
    })
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not answer that method",
    )
}
