//! `SUPABASE_BOOTSTRAP_SQL`: what it creates, and that running it again changes nothing.
#![allow(clippy::unwrap_used)]

mod support;

use sqlx::PgPool;
use sqlx::{AssertSqlSafe, Connection as _};
use supabase_ssr_postgres::{DbIdentity, RlsPool, SUPABASE_BOOTSTRAP_SQL, bootstrap_if_missing};
use support::TestDb;

/// The API roles' attributes and the pool role's membership in each.
async fn roles(pool: &PgPool) -> Vec<(String, bool, bool, bool, bool)> {
    sqlx::query_as(
        "select rolname::text, rolcanlogin, rolinherit, rolbypassrls, \
                pg_has_role(current_user, oid, 'member') \
         from pg_roles where rolname in ('anon', 'authenticated', 'service_role') \
         order by rolname",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn creates_supabases_roles_and_auth_functions_and_is_idempotent() {
    let test_db = TestDb::new().await;
    let pool = test_db.pool().await;
    let expected = [
        ("anon".to_owned(), false, false, false, true),
        ("authenticated".to_owned(), false, false, false, true),
        ("service_role".to_owned(), false, false, true, true),
    ];
    assert_eq!(roles(&pool).await, expected);

    // Twice more, on the database that has it all already.
    for _ in 0..2 {
        sqlx::raw_sql(SUPABASE_BOOTSTRAP_SQL)
            .execute(&pool)
            .await
            .unwrap();
    }
    assert_eq!(roles(&pool).await, expected);

    let functions: Vec<(String, String, String, bool)> = sqlx::query_as(
        "select p.proname::text, pg_get_function_result(p.oid), l.lanname::text, \
                p.provolatile = 's' \
         from pg_proc p join pg_namespace n on n.oid = p.pronamespace \
         join pg_language l on l.oid = p.prolang \
         where n.nspname = 'auth' order by p.proname",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let expected_functions = [("jwt", "jsonb"), ("role", "text"), ("uid", "uuid")]
        .map(|(name, result)| (name.to_owned(), result.to_owned(), "sql".to_owned(), true));
    assert_eq!(functions, expected_functions);

    // Usage on both schemas, execute on the functions, nothing on tables.
    let (auth_usage, public_usage, execute, notes_for_anon): (bool, bool, bool, bool) =
        sqlx::query_as(
            "select has_schema_privilege('anon', 'auth', 'usage'), \
                    has_schema_privilege('anon', 'public', 'usage'), \
                    has_function_privilege('anon', 'auth.jwt()', 'execute'), \
                    has_table_privilege('anon', 'public.notes', 'select')",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        (auth_usage, public_usage, execute, notes_for_anon),
        (true, true, true, false)
    );
}

#[tokio::test]
async fn auth_functions_are_null_outside_a_scoped_transaction() {
    let test_db = TestDb::new().await;
    let db = RlsPool::new(
        test_db
            .pool_with(sqlx::postgres::PgPoolOptions::new().max_connections(1))
            .await,
    );
    let outside = "select auth.uid()::text, auth.role(), auth.jwt()::text";
    type Three = (Option<String>, Option<String>, Option<String>);

    // On a fresh connection the setting does not exist at all...
    let fresh: Three = sqlx::query_as(outside)
        .fetch_one(db.bypass_rls_pool())
        .await
        .unwrap();
    assert_eq!(fresh, (None, None, None));
    // ...and after a scoped transaction it exists but is empty: still null, not an
    // `invalid input syntax for type json` error.
    db.begin(&DbIdentity::anon())
        .await
        .unwrap()
        .commit()
        .await
        .unwrap();
    let reused: Three = sqlx::query_as(outside)
        .fetch_one(db.bypass_rls_pool())
        .await
        .unwrap();
    assert_eq!(reused, (None, None, None));
}

#[tokio::test]
async fn bootstrap_if_missing_runs_once_per_database() {
    let test_db = TestDb::new().await;
    // A database the bootstrap has not run on, beside the test's.
    let mut admin = sqlx::PgConnection::connect_with(&test_db.connect_options())
        .await
        .unwrap();
    // Named uniquely: with DATABASE_URL, other tests share the server.
    let name = format!("bare_{}", uuid::Uuid::new_v4().simple());
    sqlx::raw_sql(AssertSqlSafe(format!("create database {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let mut bare = sqlx::PgConnection::connect_with(&test_db.connect_options().database(&name))
        .await
        .unwrap();
    let has_uid = "select to_regprocedure('auth.uid()') is not null";
    let before: bool = sqlx::query_scalar(has_uid)
        .fetch_one(&mut bare)
        .await
        .unwrap();
    assert!(!before);
    assert!(bootstrap_if_missing(&mut bare).await.unwrap());
    let after: bool = sqlx::query_scalar(has_uid)
        .fetch_one(&mut bare)
        .await
        .unwrap();
    assert!(after);
    assert!(!bootstrap_if_missing(&mut bare).await.unwrap());
    bare.close().await.unwrap();
    sqlx::raw_sql(AssertSqlSafe(format!("drop database {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
}
