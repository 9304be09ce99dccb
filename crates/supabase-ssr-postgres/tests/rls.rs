//! Row-level security through scoped transactions: who sees and changes which `notes`, and
//! what `auth.uid()`, `auth.role()` and `auth.jwt()` return inside.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{Value, json};
use sqlx::PgConnection;
use supabase_ssr::VerifiedClaims;
use supabase_ssr_postgres::{DbIdentity, DbRole, RlsPool};
use support::{ALICE, BOB, TestDb, Users, insert, sqlstate};
use uuid::Uuid;

fn uid(claims: &VerifiedClaims) -> Uuid {
    claims.sub.as_deref().unwrap().parse().unwrap()
}

async fn bodies(conn: &mut PgConnection) -> Vec<String> {
    sqlx::query_scalar("select body from public.notes order by id")
        .fetch_all(conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn each_user_sees_and_changes_only_their_own_notes() {
    let (test_db, users) = tokio::join!(TestDb::new(), Users::start());
    let db = RlsPool::new(test_db.pool().await);
    let (alice, bob) = (users.sign_in(ALICE).await, users.sign_in(BOB).await);
    insert(&db, &alice, "alice 1").await;
    insert(&db, &alice, "alice 2").await;
    insert(&db, &bob, "bob 1").await;

    // `user_id` was filled in from each token.
    let owners: Vec<(String, Uuid)> =
        sqlx::query_as("select body, user_id from public.notes order by id")
            .fetch_all(db.bypass_rls_pool())
            .await
            .unwrap();
    assert_eq!(
        owners,
        [
            ("alice 1".to_owned(), uid(&alice)),
            ("alice 2".to_owned(), uid(&alice)),
            ("bob 1".to_owned(), uid(&bob)),
        ]
    );

    let mut tx = db.begin_for(Some(&alice)).await.unwrap();
    assert_eq!(tx.role(), DbRole::Authenticated);
    assert_eq!(bodies(&mut tx).await, ["alice 1", "alice 2"]);
    // Bob's note is invisible to Alice's update and delete, even named outright.
    let updated = sqlx::query("update public.notes set body = 'mine now' where body = 'bob 1'")
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(updated.rows_affected(), 0);
    let deleted = sqlx::query("delete from public.notes where body = 'bob 1'")
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(deleted.rows_affected(), 0);
    // Her own, she can change.
    let updated =
        sqlx::query("update public.notes set body = 'alice 1, edited' where body = 'alice 1'")
            .execute(&mut *tx)
            .await
            .unwrap();
    assert_eq!(updated.rows_affected(), 1);
    let deleted = sqlx::query("delete from public.notes where body = 'alice 2'")
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(deleted.rows_affected(), 1);
    tx.commit().await.unwrap();

    let mut tx = db.begin_for(Some(&bob)).await.unwrap();
    assert_eq!(bodies(&mut tx).await, ["bob 1"]);
    tx.commit().await.unwrap();

    let mut all = db.begin_bypassing_rls().await.unwrap();
    assert_eq!(bodies(&mut all).await, ["alice 1, edited", "bob 1"]);
    all.commit().await.unwrap();
}

#[tokio::test]
async fn inserting_a_note_for_someone_else_is_refused_by_the_policy() {
    let (test_db, users) = tokio::join!(TestDb::new(), Users::start());
    let db = RlsPool::new(test_db.pool().await);
    let (alice, bob) = (users.sign_in(ALICE).await, users.sign_in(BOB).await);

    let mut tx = db.begin_for(Some(&alice)).await.unwrap();
    let error = sqlx::query("insert into public.notes (user_id, body) values ($1, 'forged')")
        .bind(uid(&bob))
        .execute(&mut *tx)
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&error).as_deref(), Some("42501"));
    assert_eq!(
        error.as_database_error().unwrap().message(),
        "new row violates row-level security policy for table \"notes\""
    );
    tx.rollback().await.unwrap();

    // And naming herself is fine.
    let mut tx = db.begin_for(Some(&alice)).await.unwrap();
    sqlx::query("insert into public.notes (user_id, body) values ($1, 'mine')")
        .bind(uid(&alice))
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(bodies(&mut tx).await, ["mine"]);
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn anon_can_neither_read_nor_write_notes() {
    let (test_db, users) = tokio::join!(TestDb::new(), Users::start());
    let db = RlsPool::new(test_db.pool().await);
    insert(&db, &users.sign_in(ALICE).await, "alice 1").await;

    // `anon` has no grant on the table at all: refused, not an empty result.
    for statement in [
        "select body from public.notes",
        "insert into public.notes (body) values ('anonymous')",
        "update public.notes set body = ''",
        "delete from public.notes",
    ] {
        let mut tx = db.begin_for(None).await.unwrap();
        assert_eq!(tx.role(), DbRole::Anon);
        let error = sqlx::query(statement).execute(&mut *tx).await.unwrap_err();
        assert_eq!(sqlstate(&error).as_deref(), Some("42501"), "{statement}");
        assert_eq!(
            error.as_database_error().unwrap().message(),
            "permission denied for table notes"
        );
    }
    let mut all = db.begin_bypassing_rls().await.unwrap();
    assert_eq!(bodies(&mut all).await, ["alice 1"]);
}

#[tokio::test]
async fn auth_functions_return_the_users_claims() {
    let (test_db, users) = tokio::join!(TestDb::new(), Users::start());
    let db = RlsPool::new(test_db.pool().await);
    let alice = users
        .custom(|claims| {
            claims["tenant"] = json!("acme");
            claims["app_metadata"]["plan"] = json!({ "tier": "pro", "seats": 3 });
        })
        .await;

    let mut tx = db.begin_for(Some(&alice)).await.unwrap();
    let (uid_, role, email, tenant, plan, jwt, user, pg_role): (
        Uuid,
        String,
        String,
        String,
        Value,
        Value,
        String,
        String,
    ) = sqlx::query_as(
        "select auth.uid(), auth.role(), auth.jwt() ->> 'email', auth.jwt() ->> 'tenant', \
         auth.jwt() -> 'app_metadata' -> 'plan', auth.jwt(), current_user::text, \
         current_setting('role')",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert_eq!(uid_, uid(&alice));
    assert_eq!(role, "authenticated");
    assert_eq!(email, ALICE);
    assert_eq!(tenant, "acme");
    assert_eq!(plan, json!({ "tier": "pro", "seats": 3 }));
    assert_eq!(jwt, serde_json::to_value(&alice).unwrap());
    assert_eq!(user, "authenticated");
    assert_eq!(pg_role, "authenticated");
    // What `auth.uid()` reads first, so it need not parse the claims.
    let sub: String = sqlx::query_scalar("select current_setting('request.jwt.claim.sub')")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(Some(sub.as_str()), alice.sub.as_deref());
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn signed_out_requests_run_as_anon_with_no_user() {
    let test_db = TestDb::new().await;
    let db = RlsPool::new(test_db.pool().await);
    for mut tx in [
        db.begin_for(None).await.unwrap(),
        db.begin(&DbIdentity::anon()).await.unwrap(),
    ] {
        let (uid_, role, jwt, user): (Option<Uuid>, String, Value, String) =
            sqlx::query_as("select auth.uid(), auth.role(), auth.jwt(), current_user::text")
                .fetch_one(&mut *tx)
                .await
                .unwrap();
        assert_eq!(uid_, None);
        assert_eq!(role, "anon");
        let sub: String = sqlx::query_scalar("select current_setting('request.jwt.claim.sub')")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(sub, "");
        assert_eq!(jwt, json!({ "role": "anon" }));
        assert_eq!(user, "anon");
        tx.commit().await.unwrap();
    }
}
