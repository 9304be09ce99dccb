//! Nothing of a scoped transaction outlives it on the pooled connection, however it ends;
//! an exhausted pool fails fast; the statement cache can be off (Supabase's pooler).
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use sqlx::postgres::PgPoolOptions;
use supabase_ssr::VerifiedClaims;
use supabase_ssr_postgres::{DbIdentity, RlsErrorKind, RlsPool, ScopedTransaction};
use support::{ALICE, BOB, TestDb, Users, insert, sqlstate};

/// A pool of exactly one connection, so every user gets the previous user's connection.
async fn one_connection(test_db: &TestDb) -> RlsPool {
    RlsPool::new(
        test_db
            .pool_with(PgPoolOptions::new().max_connections(1))
            .await,
    )
}

/// What the next user of the connection sees, outside any scoped transaction: the pool's
/// role, no claims, no `set role`, and `auth.uid()` null (not an error). Returns the
/// connection's backend pid.
async fn assert_clean(db: &RlsPool, test_db: &TestDb, after: &str) -> i32 {
    let (pid, user, claims, sub, role, uid): (
        i32,
        String,
        String,
        String,
        String,
        Option<uuid::Uuid>,
    ) = sqlx::query_as(
        "select pg_backend_pid(), current_user::text, \
             coalesce(current_setting('request.jwt.claims', true), ''), \
             coalesce(current_setting('request.jwt.claim.sub', true), ''), \
             current_setting('role'), auth.uid()",
    )
    .fetch_one(db.bypass_rls_pool())
    .await
    .unwrap();
    assert_eq!(
        (
            user.as_str(),
            claims.as_str(),
            sub.as_str(),
            role.as_str(),
            uid
        ),
        (test_db.pool_role.as_str(), "", "", "none", None),
        "after {after} (backend {pid})"
    );
    pid
}

/// Begins as Alice and checks the identity took.
async fn begin_as(db: &RlsPool, claims: &VerifiedClaims) -> ScopedTransaction {
    let mut tx = db.begin_for(Some(claims)).await.unwrap();
    let user: String = sqlx::query_scalar("select current_user::text")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(user, "authenticated");
    tx
}

#[tokio::test]
async fn the_next_user_of_the_connection_never_sees_the_previous_identity() {
    let (test_db, users) = tokio::join!(TestDb::new(), Users::start());
    let db = one_connection(&test_db).await;
    let alice = users.sign_in(ALICE).await;
    // Each case must reach the same connection, or it would prove nothing.
    let pid = assert_clean(&db, &test_db, "nothing").await;

    begin_as(&db, &alice).await.commit().await.unwrap();
    assert_eq!(assert_clean(&db, &test_db, "commit").await, pid);

    begin_as(&db, &alice).await.rollback().await.unwrap();
    assert_eq!(assert_clean(&db, &test_db, "rollback").await, pid);

    drop(begin_as(&db, &alice).await);
    assert_eq!(assert_clean(&db, &test_db, "drop").await, pid);

    // A failed statement aborts the transaction; then it is dropped, as a `?` would.
    let mut tx = begin_as(&db, &alice).await;
    let error = sqlx::query("select 1 / 0")
        .execute(&mut *tx)
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&error).as_deref(), Some("22012"));
    drop(tx);
    assert_eq!(
        assert_clean(&db, &test_db, "an error, then drop").await,
        pid
    );

    // Committing an aborted transaction rolls it back.
    let mut tx = begin_as(&db, &alice).await;
    sqlx::query("select 1 / 0")
        .execute(&mut *tx)
        .await
        .unwrap_err();
    tx.commit().await.unwrap();
    assert_eq!(
        assert_clean(&db, &test_db, "an error, then commit").await,
        pid
    );

    // A panic in the task holding the transaction.
    let tx = begin_as(&db, &alice).await;
    let panicked = tokio::spawn(async move {
        let _tx = tx;
        panic!("handler bug");
    })
    .await
    .unwrap_err();
    assert!(panicked.is_panic());
    assert_eq!(assert_clean(&db, &test_db, "a panic").await, pid);

    // A future dropped mid-query (the client went away, a timeout fired).
    let mut tx = begin_as(&db, &alice).await;
    let started = Instant::now();
    let timed_out = tokio::time::timeout(
        Duration::from_millis(50),
        sqlx::query("select pg_sleep(2)").execute(&mut *tx),
    )
    .await;
    assert!(timed_out.is_err());
    drop(tx);
    assert_eq!(assert_clean(&db, &test_db, "a cancelled query").await, pid);
    // The connection could serve again only once the sleep had finished and the queued
    // ROLLBACK had run: sqlx drains it before handing the connection out.
    assert!(started.elapsed() >= Duration::from_secs(2));

    // A cancelled `begin` itself: while acquiring, during BEGIN, between BEGIN and the
    // context statement, or during it. (Cancelled inside the pool's check of an idle
    // connection, sqlx closes that connection and opens a new one: also clean.)
    for micros in [0, 50, 200, 1_000, 5_000] {
        let _ =
            tokio::time::timeout(Duration::from_micros(micros), db.begin_for(Some(&alice))).await;
        assert_clean(&db, &test_db, &format!("begin cancelled after {micros} µs")).await;
    }
}

#[tokio::test]
async fn identities_alternate_on_one_connection() {
    let (test_db, users) = tokio::join!(TestDb::new(), Users::start());
    let db = one_connection(&test_db).await;
    let (alice, bob) = (users.sign_in(ALICE).await, users.sign_in(BOB).await);
    for (claims, expected) in [
        (Some(&alice), alice.sub.as_deref()),
        (None, None),
        (Some(&bob), bob.sub.as_deref()),
        (Some(&alice), alice.sub.as_deref()),
    ] {
        let mut tx = db.begin_for(claims).await.unwrap();
        let sub: Option<String> = sqlx::query_scalar("select auth.uid()::text")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(sub.as_deref(), expected);
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn an_exhausted_pool_times_out_instead_of_hanging() {
    let test_db = TestDb::new().await;
    let db = RlsPool::new(
        test_db
            .pool_with(
                PgPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_millis(300)),
            )
            .await,
    );
    let held = db.begin(&DbIdentity::anon()).await.unwrap();

    let started = Instant::now();
    let error = db.begin(&DbIdentity::anon()).await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(error.kind(), RlsErrorKind::PoolTimedOut);
    assert!(error.is_pool_timeout());
    assert!(matches!(error.as_sqlx(), Some(sqlx::Error::PoolTimedOut)));
    assert!(
        elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
    let error = db.begin_bypassing_rls().await.unwrap_err();
    assert!(error.is_pool_timeout());

    held.commit().await.unwrap();
    db.begin(&DbIdentity::anon())
        .await
        .unwrap()
        .commit()
        .await
        .unwrap();
}

#[tokio::test]
async fn works_with_the_statement_cache_off_as_behind_a_transaction_pooler() {
    let (test_db, users) = tokio::join!(TestDb::new(), Users::start());
    let options = test_db.connect_options().statement_cache_capacity(0);
    let db = RlsPool::new(
        PgPoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap(),
    );
    let (alice, bob) = (users.sign_in(ALICE).await, users.sign_in(BOB).await);
    for (claims, body) in [(&alice, "alice"), (&bob, "bob")] {
        insert(&db, claims, body).await;
    }
    for (claims, body) in [(&alice, "alice"), (&bob, "bob")] {
        let mut tx = db.begin_for(Some(claims)).await.unwrap();
        let (bodies, uid): (Vec<String>, Option<String>) = sqlx::query_as(
            "select array(select body from public.notes order by id), auth.uid()::text",
        )
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        assert_eq!(bodies, [body]);
        assert_eq!(uid.as_deref(), claims.sub.as_deref());
        tx.commit().await.unwrap();
    }
    // Nothing was prepared under a name: a transaction pooler may move the next
    // transaction to another server connection.
    let prepared: i64 = sqlx::query_scalar("select count(*) from pg_prepared_statements")
        .fetch_one(db.bypass_rls_pool())
        .await
        .unwrap();
    assert_eq!(prepared, 0);
    assert_clean(&db, &test_db, "the statement cache off").await;
}
