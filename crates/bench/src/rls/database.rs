//! The database `bench rls` runs against: a throwaway server, or a database of its own on
//! `DATABASE_URL`'s, seeded, removed at the end.

use super::*;

/// The database the benchmark runs against, removed at the end.
pub(super) enum Server {
    Throwaway(ThrowawayPostgres),
    /// `DATABASE_URL`: our database `name` on it.
    Shared {
        admin_url: String,
        name: String,
    },
}

pub(super) struct Database {
    pub(super) server: Server,
    pub(super) options: PgConnectOptions,
}

impl Database {
    /// A fresh database with the bootstrap, the `notes` table and its seed.
    pub(super) async fn create(owner: Uuid) -> Result<Database, String> {
        let e = |e: sqlx::Error| format!("database: {e}");
        let database = match std::env::var("DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let secs = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let name = format!("bench_rls_{}_{secs}", std::process::id());
                let mut admin = PgConnection::connect(&admin_url).await.map_err(e)?;
                sqlx::raw_sql(AssertSqlSafe(format!("create database {name}")))
                    .execute(&mut admin)
                    .await
                    .map_err(e)?;
                admin.close().await.map_err(e)?;
                let options = PgConnectOptions::from_str(&admin_url)
                    .map_err(e)?
                    .database(&name);
                Database {
                    server: Server::Shared { admin_url, name },
                    options,
                }
            }
            _ => {
                let server = tokio::task::spawn_blocking(ThrowawayPostgres::start)
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| format!("throwaway PostgreSQL: {e}"))?;
                let options = PgConnectOptions::from_str(server.url()).map_err(e)?;
                Database {
                    server: Server::Throwaway(server),
                    options,
                }
            }
        };
        if let Err(error) = database.seed(owner).await {
            database.remove().await;
            return Err(error);
        }
        Ok(database)
    }

    pub(super) async fn seed(&self, owner: Uuid) -> Result<(), String> {
        let e = |e: sqlx::Error| format!("seeding the database: {e}");
        let lock = match &self.server {
            Server::Shared { admin_url, .. } => {
                let mut admin = PgConnection::connect(admin_url).await.map_err(e)?;
                sqlx::query("select pg_advisory_lock($1)")
                    .bind(BOOTSTRAP_LOCK)
                    .execute(&mut admin)
                    .await
                    .map_err(e)?;
                Some(admin)
            }
            Server::Throwaway(_) => None,
        };
        let mut conn = PgConnection::connect_with(&self.options).await.map_err(e)?;
        let bootstrapped = sqlx::raw_sql(SUPABASE_BOOTSTRAP_SQL)
            .execute(&mut conn)
            .await;
        if let Some(lock) = lock {
            // Closing the session releases the lock.
            lock.close().await.map_err(e)?;
        }
        bootstrapped.map_err(e)?;
        sqlx::raw_sql(NOTES_SQL)
            .execute(&mut conn)
            .await
            .map_err(e)?;
        sqlx::query(SEED)
            .bind(owner.to_string())
            .execute(&mut conn)
            .await
            .map_err(e)?;
        sqlx::raw_sql("analyze public.notes")
            .execute(&mut conn)
            .await
            .map_err(e)?;
        conn.close().await.map_err(e)
    }

    pub(super) async fn pool(&self, size: u32, statement_cache: bool) -> Result<PgPool, String> {
        let options = if statement_cache {
            self.options.clone()
        } else {
            self.options.clone().statement_cache_capacity(0)
        };
        pool_options(size)
            .connect_with(options)
            .await
            .map_err(|e| format!("pool: {e}"))
    }

    /// Stops the throwaway server (removing its directory), or drops our database.
    pub(super) async fn remove(self) {
        match self.server {
            Server::Throwaway(server) => {
                let _ = tokio::task::spawn_blocking(move || server.stop()).await;
            }
            Server::Shared { admin_url, name } => {
                let dropped = async {
                    let mut admin = PgConnection::connect(&admin_url).await?;
                    sqlx::raw_sql(AssertSqlSafe(format!(
                        "drop database if exists {name} with (force)"
                    )))
                    .execute(&mut admin)
                    .await?;
                    admin.close().await
                };
                if let Err(error) = dropped.await {
                    eprintln!("bench rls: could not drop the database {name}: {error}");
                }
            }
        }
    }
}

/// sqlx's defaults (the liveness check before each acquire included), `size`
/// connections, all opened before the first measure.
pub(super) fn pool_options(size: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(size)
        .min_connections(size)
        .acquire_timeout(Duration::from_secs(10))
}
