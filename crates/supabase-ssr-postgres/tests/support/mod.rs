//! Shared by the integration tests: a fresh database with Supabase's roles and `auth`
//! functions and the example `notes` table, and verified claims for test users.
//!
//! With `DATABASE_URL` set (a superuser on an existing server), each test gets its own
//! database on that server, dropped at the end; otherwise a throwaway server of its own.
#![allow(dead_code, reason = "each test file uses a different part")]
#![allow(clippy::unwrap_used)]

use std::str::FromStr;
use std::sync::Arc;

use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool};
use supabase_auth_emulator::{Emulator, EmulatorConfig};
use supabase_ssr::cookies::CookieJar;
use supabase_ssr::{SupabaseAuth, VerifiedClaims};
use supabase_ssr_postgres::{RlsPool, SUPABASE_BOOTSTRAP_SQL};
use throwaway_postgres::ThrowawayPostgres;

pub(crate) const NOTES_SQL: &str = include_str!("../../sql/notes_example.sql");
pub(crate) const PASSWORD: &str = "correct horse battery staple";
pub(crate) const ALICE: &str = "alice@example.com";
pub(crate) const BOB: &str = "bob@example.com";

/// Serializes bootstraps on a shared server: roles are server-wide, and two concurrent
/// `create role` / `grant` on them can fail. (Any constant; it names the lock.)
const BOOTSTRAP_LOCK: i64 = 0x5b55_5253_5250_4731;

enum Server {
    /// `DATABASE_URL`: our database `name` on it is dropped at the end.
    Shared { admin_url: String, name: String },
    /// A server of our own, removed with it.
    Throwaway(ThrowawayPostgres),
}

/// A database ready for scoped transactions: `SUPABASE_BOOTSTRAP_SQL` and
/// `notes_example.sql` applied.
pub(crate) struct TestDb {
    server: Server,
    options: PgConnectOptions,
    /// The role the pool connects as (`postgres` on a throwaway server).
    pub(crate) pool_role: String,
}

impl TestDb {
    pub(crate) async fn new() -> Self {
        let (server, options) = match std::env::var("DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("rls_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::connect(&admin_url).await.unwrap();
                sqlx::raw_sql(AssertSqlSafe(format!("create database {name}")))
                    .execute(&mut admin)
                    .await
                    .unwrap();
                admin.close().await.unwrap();
                let options = PgConnectOptions::from_str(&admin_url)
                    .unwrap()
                    .database(&name);
                (Server::Shared { admin_url, name }, options)
            }
            _ => throwaway().await,
        };
        let mut conn = PgConnection::connect_with(&options).await.unwrap();
        // Held until closed, below: serializes bootstraps on a shared server.
        let mut lock = match &server {
            Server::Shared { admin_url, .. } => {
                let mut admin = PgConnection::connect(admin_url).await.unwrap();
                sqlx::query("select pg_advisory_lock($1)")
                    .bind(BOOTSTRAP_LOCK)
                    .execute(&mut admin)
                    .await
                    .unwrap();
                Some(admin)
            }
            Server::Throwaway(_) => None,
        };
        sqlx::raw_sql(SUPABASE_BOOTSTRAP_SQL)
            .execute(&mut conn)
            .await
            .unwrap();
        if let Some(lock) = lock.take() {
            lock.close().await.unwrap();
        }
        sqlx::raw_sql(NOTES_SQL).execute(&mut conn).await.unwrap();
        let pool_role: String = sqlx::query_scalar("select current_user::text")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        Self {
            server,
            options,
            pool_role,
        }
    }

    pub(crate) fn connect_options(&self) -> PgConnectOptions {
        self.options.clone()
    }

    /// A pool of up to 5 connections as the pool role.
    pub(crate) async fn pool(&self) -> PgPool {
        self.pool_with(PgPoolOptions::new().max_connections(5))
            .await
    }

    pub(crate) async fn pool_with(&self, options: PgPoolOptions) -> PgPool {
        options.connect_with(self.connect_options()).await.unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Server::Shared { admin_url, name } = &self.server else {
            return;
        };
        let (admin_url, drop_sql) = (
            admin_url.clone(),
            format!("drop database if exists {name} with (force)"),
        );
        // Drop cannot await, and may run inside the test's runtime: a thread with a
        // runtime of its own.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let mut admin = PgConnection::connect(&admin_url).await?;
                sqlx::raw_sql(AssertSqlSafe(drop_sql))
                    .execute(&mut admin)
                    .await?;
                admin.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop the test database {name}: {dropped:?}");
        }
    }
}

async fn throwaway() -> (Server, PgConnectOptions) {
    let server = tokio::task::spawn_blocking(ThrowawayPostgres::start)
        .await
        .unwrap()
        .unwrap();
    let options = PgConnectOptions::from_str(server.url()).unwrap();
    (Server::Throwaway(server), options)
}

/// An emulator with two confirmed users, Alice and Bob, and a client for it.
pub(crate) struct Users {
    pub(crate) emu: Emulator,
    pub(crate) auth: SupabaseAuth,
}

impl Users {
    pub(crate) async fn start() -> Self {
        let emu = EmulatorConfig::default().start().await.unwrap();
        emu.create_user(ALICE, PASSWORD).await.unwrap();
        emu.create_user(BOB, PASSWORD).await.unwrap();
        let auth = SupabaseAuth::builder(emu.url(), emu.publishable_key())
            .build()
            .unwrap();
        Self { emu, auth }
    }

    /// Signs `email` in and returns the verified claims of the new session.
    pub(crate) async fn sign_in(&self, email: &str) -> VerifiedClaims {
        let client = self.auth.server_client(Arc::new(CookieJar::default()));
        client.sign_in_with_password(email, PASSWORD).await.unwrap();
        client.get_claims().await.unwrap().unwrap()
    }

    /// Alice's claims with `edit` applied to their JSON, signed by the emulator and
    /// verified: what a custom access-token hook could make the Auth server issue.
    pub(crate) async fn custom(&self, edit: impl FnOnce(&mut Value)) -> VerifiedClaims {
        let mut claims = serde_json::to_value(self.sign_in(ALICE).await).unwrap();
        edit(&mut claims);
        let token = self.emu.sign_jwt(&claims).unwrap();
        self.auth
            .server_client(Arc::new(CookieJar::default()))
            .verify_token(&token)
            .await
            .unwrap()
    }
}

/// The SQLSTATE code of a database error.
pub(crate) fn sqlstate(error: &sqlx::Error) -> Option<String> {
    error
        .as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.into_owned())
}

/// Inserts `body` as the owner of `claims`, committed.
pub(crate) async fn insert(db: &RlsPool, claims: &VerifiedClaims, body: &str) {
    let mut tx = db.begin_for(Some(claims)).await.unwrap();
    sqlx::query("insert into public.notes (body) values ($1)")
        .bind(body)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}
