//! From verified claims to a database identity: hostile claim values round-trip as data,
//! and roles other than `authenticated` and `anon` are refused before any query.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{Value, json};
use sqlx::postgres::PgPoolOptions;
use supabase_ssr_postgres::{DbIdentity, DbRole, RlsErrorKind, RlsPool};
use support::{ALICE, TestDb, Users};

/// Values that would break out of a string literal, if the claims were ever SQL text.
const HOSTILE: [&str; 6] = [
    "it's \"quoted\"",
    r"back\slash \\ and \' and \x00",
    "'); drop table notes; --",
    "$1 $$ $tag$ dollar quotes $tag$",
    "unicode: é ß 日本語 🦀 \u{200b}",
    "new\nlines\r\n\ttabs",
];

#[tokio::test]
async fn hostile_claim_values_round_trip_byte_for_byte() {
    let (test_db, users) = tokio::join!(TestDb::new(), Users::start());
    let db = RlsPool::new(test_db.pool().await);
    // The core refuses tokens over 16 KiB, so this is about the largest value a verified
    // token can carry.
    let long = "x'y\"z\\".repeat(1_100);
    let alice = users
        .custom(|claims| {
            for (i, value) in HOSTILE.iter().enumerate() {
                claims[format!("hostile_{i}")] = json!(value);
            }
            claims["user_metadata"]["bio"] = json!(long);
            claims[HOSTILE[2]] = json!("as a key too");
        })
        .await;
    let identity = DbIdentity::from_claims(&alice).unwrap();
    assert_eq!(
        identity.claims_json(),
        serde_json::to_string(&alice).unwrap()
    );

    let mut tx = db.begin(&identity).await.unwrap();
    for (i, value) in HOSTILE.iter().enumerate() {
        let back: String = sqlx::query_scalar("select auth.jwt() ->> $1")
            .bind(format!("hostile_{i}"))
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(back.as_bytes(), value.as_bytes());
    }
    let (bio, key, jwt): (String, String, Value) = sqlx::query_as(
        "select auth.jwt() -> 'user_metadata' ->> 'bio', auth.jwt() ->> $1, auth.jwt()",
    )
    .bind(HOSTILE[2])
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert_eq!(bio.len(), long.len());
    assert_eq!(bio, long);
    assert_eq!(key, "as a key too");
    assert_eq!(jwt, serde_json::to_value(&alice).unwrap());
    tx.commit().await.unwrap();

    let notes: Option<String> = sqlx::query_scalar("select to_regclass('public.notes')::text")
        .fetch_one(db.bypass_rls_pool())
        .await
        .unwrap();
    assert_eq!(notes.as_deref(), Some("notes"));
}

#[tokio::test]
async fn identity_from_claims_keeps_every_claim_and_hides_them_in_debug() {
    let users = Users::start().await;
    let alice = users.sign_in(ALICE).await;
    let identity = DbIdentity::from_claims(&alice).unwrap();
    assert_eq!(identity.role(), DbRole::Authenticated);
    assert_eq!(
        identity.claims_json(),
        serde_json::to_string(&alice).unwrap()
    );
    assert_eq!(
        format!("{identity:?}"),
        r#"DbIdentity { role: Authenticated, sub: "present", .. }"#
    );

    let anon = users.custom(|claims| claims["role"] = json!("anon")).await;
    assert_eq!(DbIdentity::from_claims(&anon).unwrap().role(), DbRole::Anon);
}

#[tokio::test]
async fn other_roles_are_refused_before_any_connection_is_taken() {
    let (test_db, users) = tokio::join!(TestDb::new(), Users::start());
    // Lazy: a connection is opened only when something asks for one.
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_lazy_with(test_db.connect_options());
    let db = RlsPool::new(pool);

    let cases = [
        ("service_role", Some("service_role")),
        ("editor", Some("editor")),
        ("Authenticated", Some("Authenticated")),
        ("no role", None),
    ];
    for (case, role) in cases {
        let claims = users
            .custom(|claims| match role {
                Some(role) => claims["role"] = json!(role),
                None => {
                    claims.as_object_mut().unwrap().shift_remove("role");
                }
            })
            .await;
        assert_eq!(claims.role.as_deref(), role, "{case}");

        let refused = DbIdentity::from_claims(&claims).unwrap_err();
        assert_eq!(refused.role(), role, "{case}");

        let error = db.begin_for(Some(&claims)).await.unwrap_err();
        assert_eq!(error.kind(), RlsErrorKind::UnsupportedRole, "{case}");
        assert!(!error.is_pool_timeout());
        assert_eq!(error.unsupported_role(), Some(&refused), "{case}");
        assert!(error.as_sqlx().is_none());
        assert_eq!(error.to_string(), refused.to_string());
    }
    assert_eq!(db.bypass_rls_pool().size(), 0, "no connection was opened");

    let service = users
        .custom(|claims| claims["role"] = json!("service_role"))
        .await;
    let error = db.begin_for(Some(&service)).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "the token's role `service_role` is not supported: a row-level-security-scoped \
         transaction runs only as `authenticated` or `anon`; to bypass row-level security, \
         use the admin path explicitly (`RlsPool::begin_bypassing_rls`)"
    );
    assert_eq!(
        format!("{error:?}"),
        "RlsError { kind: UnsupportedRole, inner: UnsupportedRole(UnsupportedRole { role: \
         Some(\"service_role\") }) }"
    );
}
