//! The axum integration: `Db` as the verified user, committed on success and rolled
//! back on an error answer, a panic or a client that went away, on a real PostgreSQL.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use supabase_ssr::adapter::codec::cookie_header_value;
use supabase_ssr::api_auth::AuthMode;
use supabase_ssr::cookies::CookieJar;
use supabase_ssr_axum::{ApiAuthLayer, ApiError, SupabaseLayer};
use supabase_ssr_postgres::RlsPool;
use supabase_ssr_postgres::axum::{AdminDb, Db, RlsLayer, database_error};
use support::{ALICE, BOB, PASSWORD, TestDb, Users};
use tower::ServiceExt;

async fn insert(db: &mut Db, body: &str) -> Result<(), ApiError> {
    sqlx::query("insert into notes (body) values ($1)")
        .bind(body)
        .execute(&mut **db)
        .await
        .map(drop)
        .map_err(database_error)
}

/// Inserts, then answers with the status the test asks for.
async fn write_then(
    mut db: Db,
    axum::extract::Path(status): axum::extract::Path<u16>,
) -> impl IntoResponse {
    if let Err(e) = insert(&mut db, &format!("answered {status}")).await {
        return e.into_response();
    }
    StatusCode::from_u16(status).unwrap().into_response()
}

async fn write_then_panic(mut db: Db) -> StatusCode {
    insert(&mut db, "panicked").await.unwrap();
    panic!("the handler failed after writing");
}

async fn write_then_sleep(mut db: Db) -> StatusCode {
    insert(&mut db, "abandoned").await.unwrap();
    sqlx::query("select pg_sleep(1)")
        .execute(&mut *db)
        .await
        .unwrap();
    StatusCode::OK
}

async fn write_and_commit(mut db: Db) -> Result<StatusCode, ApiError> {
    insert(&mut db, "committed by hand").await?;
    db.commit().await.map_err(database_error)?;
    // Too late to roll back: the commit happened.
    Ok(StatusCode::INTERNAL_SERVER_ERROR)
}

async fn mine(mut db: Db) -> Result<Json<Value>, ApiError> {
    let rows: Vec<(String,)> = sqlx::query_as("select body from notes order by id")
        .fetch_all(&mut *db)
        .await
        .map_err(database_error)?;
    let who: (Option<String>, String) =
        sqlx::query_as("select auth.uid()::text, current_user::text")
            .fetch_one(&mut *db)
            .await
            .map_err(database_error)?;
    Ok(Json(json!({
        "uid": who.0,
        "current_user": who.1,
        "bodies": rows.into_iter().map(|r| r.0).collect::<Vec<_>>(),
    })))
}

async fn everything(mut db: AdminDb) -> Result<Json<Value>, ApiError> {
    let rows: Vec<(String,)> = sqlx::query_as("select body from notes order by id")
        .fetch_all(&mut *db)
        .await
        .map_err(database_error)?;
    Ok(Json(json!(
        rows.into_iter().map(|r| r.0).collect::<Vec<_>>()
    )))
}

fn api(users: &Users, pool: &PgPool) -> Router {
    Router::new()
        .route("/write/{status}", post(write_then))
        .route("/panic", post(write_then_panic))
        .route("/sleep", post(write_then_sleep))
        .route("/commit", post(write_and_commit))
        .route("/mine", get(mine))
        .route("/everything", get(everything))
        .route_layer(ApiAuthLayer::new(users.auth.clone(), [AuthMode::User]))
        .layer(RlsLayer::new(RlsPool::new(pool.clone())))
}

async fn token(users: &Users, email: &str) -> String {
    let client = users.auth.server_client(Arc::new(CookieJar::default()));
    let session = client.sign_in_with_password(email, PASSWORD).await.unwrap();
    session.access_token().to_owned()
}

fn req(method: &str, uri: &str, token: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap()
}

async fn answer(app: &Router, req: Request<Body>) -> (StatusCode, Value) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (status, body)
}

/// Every body in the table, read as the pool's role.
async fn all_bodies(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("select body from notes order by id")
        .fetch_all(pool)
        .await
        .unwrap()
}

/// What the next user of a one-connection pool sees: its role, `set role`, the claims
/// and the user id settings.
async fn next_user_sees(pool: &PgPool) -> (String, String, String, String) {
    sqlx::query_as(
        "select current_user::text, current_setting('role'), \
         coalesce(current_setting('request.jwt.claims', true), ''), \
         coalesce(current_setting('request.jwt.claim.sub', true), '')",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

fn clean(role: &str) -> (String, String, String, String) {
    (
        role.to_owned(),
        "none".to_owned(),
        String::new(),
        String::new(),
    )
}

#[tokio::test]
async fn success_commits_and_an_error_answer_rolls_back() {
    let (db, users) = (TestDb::new().await, Users::start().await);
    let pool = db.pool_with(PgPoolOptions::new().max_connections(1)).await;
    let app = api(&users, &pool);
    let alice = token(&users, ALICE).await;
    for status in [200, 201, 303, 400, 404, 500] {
        let (got, _) = answer(&app, req("POST", &format!("/write/{status}"), &alice)).await;
        assert_eq!(got.as_u16(), status);
        assert_eq!(next_user_sees(&pool).await, clean(&db.pool_role));
    }
    assert_eq!(
        all_bodies(&pool).await,
        ["answered 200", "answered 201", "answered 303"]
    );
    // An explicit commit stands whatever the handler answers afterwards.
    let (got, _) = answer(&app, req("POST", "/commit", &alice)).await;
    assert_eq!(got, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(all_bodies(&pool).await.last().unwrap(), "committed by hand");
}

#[tokio::test]
async fn db_runs_as_the_bearer_user_and_admin_db_bypasses_rls() {
    let (db, users) = (TestDb::new().await, Users::start().await);
    let pool = db.pool().await;
    let app = api(&users, &pool);
    let (alice, bob) = (token(&users, ALICE).await, token(&users, BOB).await);
    answer(&app, req("POST", "/write/201", &alice)).await;
    answer(&app, req("POST", "/write/200", &bob)).await;
    let alice_id = users.sign_in(ALICE).await.sub.clone();
    let (status, body) = answer(&app, req("GET", "/mine", &alice)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({ "uid": alice_id, "current_user": "authenticated", "bodies": ["answered 201"] })
    );
    let (_, body) = answer(&app, req("GET", "/mine", &bob)).await;
    assert_eq!(body["bodies"], json!(["answered 200"]));
    let (status, body) = answer(&app, req("GET", "/everything", &bob)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!(["answered 201", "answered 200"]));
}

#[tokio::test]
async fn a_token_with_another_role_is_403_before_any_query() {
    let (db, users) = (TestDb::new().await, Users::start().await);
    let pool = db.pool().await;
    let app = api(&users, &pool);
    for role in ["service_role", "editor"] {
        let mut claims = serde_json::to_value(users.sign_in(ALICE).await).unwrap();
        claims["role"] = json!(role);
        let forged = users.emu.sign_jwt(&claims).unwrap();
        let (status, body) = answer(&app, req("POST", "/write/201", &forged)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["code"], "unsupported_role");
        assert!(body["message"].as_str().unwrap().contains(role), "{body}");
    }
    assert_eq!(all_bodies(&pool).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_panicking_handler_rolls_back_and_leaves_the_connection_clean() {
    let (db, users) = (TestDb::new().await, Users::start().await);
    let pool = db.pool_with(PgPoolOptions::new().max_connections(1)).await;
    let app = api(&users, &pool);
    let alice = token(&users, ALICE).await;
    let joined = tokio::spawn({
        let app = app.clone();
        async move { app.oneshot(req("POST", "/panic", &alice)).await }
    })
    .await;
    assert!(joined.unwrap_err().is_panic());
    assert_eq!(next_user_sees(&pool).await, clean(&db.pool_role));
    assert_eq!(all_bodies(&pool).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_client_that_goes_away_mid_query_rolls_back_over_real_http() {
    let (db, users) = (TestDb::new().await, Users::start().await);
    let pool = db.pool_with(PgPoolOptions::new().max_connections(1)).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = api(&users, &pool);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let alice = token(&users, ALICE).await;
    let request = reqwest::Client::new()
        .post(format!("http://{addr}/sleep"))
        .bearer_auth(&alice)
        .send();
    // The handler has written and is in `pg_sleep(1)` when the client gives up.
    assert!(
        tokio::time::timeout(Duration::from_millis(300), request)
            .await
            .is_err()
    );
    assert_eq!(next_user_sees(&pool).await, clean(&db.pool_role));
    assert_eq!(all_bodies(&pool).await, Vec::<String>::new());
}

#[tokio::test]
async fn cookie_sessions_and_anon_pages_run_as_their_user() {
    let (db, users) = (TestDb::new().await, Users::start().await);
    let pool = db.pool().await;
    let app = Router::new()
        .route("/mine", get(mine))
        .layer(SupabaseLayer::new(users.auth.clone()))
        .layer(RlsLayer::new(RlsPool::new(pool.clone())));
    let jar = Arc::new(CookieJar::default());
    users
        .auth
        .server_client(jar.clone())
        .sign_in_with_password(ALICE, PASSWORD)
        .await
        .unwrap();
    let signed_in = Request::builder()
        .uri("/mine")
        .header("cookie", cookie_header_value(&jar.cookies()))
        .body(Body::empty())
        .unwrap();
    let (status, body) = answer(&app, signed_in).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["current_user"], "authenticated");
    assert_eq!(body["uid"], json!(users.sign_in(ALICE).await.sub.clone()));
    // Signed out: anon, which has no grant on notes at all.
    let (status, body) = answer(
        &app,
        Request::builder().uri("/mine").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        body,
        json!({ "code": "database_error", "message": "the database could not complete the request" })
    );
}

#[tokio::test]
async fn a_route_without_the_layers_is_a_500_not_a_query() {
    let (db, users) = (TestDb::new().await, Users::start().await);
    let pool = db.pool().await;
    let alice = token(&users, ALICE).await;
    let no_rls = Router::new()
        .route("/mine", get(mine))
        .route_layer(ApiAuthLayer::new(users.auth.clone(), [AuthMode::User]));
    assert_eq!(
        answer(&no_rls, req("GET", "/mine", &alice)).await,
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "code": "server_misconfigured", "message": "this route has no RlsLayer" })
        )
    );
    let no_auth = Router::new()
        .route("/mine", get(mine))
        .layer(RlsLayer::new(RlsPool::new(pool)));
    assert_eq!(
        answer(&no_auth, req("GET", "/mine", &alice)).await,
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({
                "code": "server_misconfigured",
                "message": "this route has no auth layer to tell who the request runs as"
            })
        )
    );
}

#[tokio::test]
async fn an_exhausted_pool_is_a_503_within_the_acquire_timeout() {
    let (db, users) = (TestDb::new().await, Users::start().await);
    let pool = db
        .pool_with(
            PgPoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_millis(300)),
        )
        .await;
    let app = api(&users, &pool);
    let alice = token(&users, ALICE).await;
    let held = pool.begin().await.unwrap();
    let started = Instant::now();
    let (status, body) = answer(&app, req("GET", "/mine", &alice)).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        body,
        json!({ "code": "database_unavailable", "message": "no database connection is free; try again" })
    );
    drop(held);
    assert_eq!(
        answer(&app, req("GET", "/mine", &alice)).await.0,
        StatusCode::OK
    );
}
