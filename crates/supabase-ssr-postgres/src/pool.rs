//! [`RlsPool`] hands out [`ScopedTransaction`]s: transactions that run as the user.

use std::fmt;
use std::ops::{Deref, DerefMut};

use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use supabase_ssr::VerifiedClaims;

use crate::{DbIdentity, DbRole, RlsError};

/// The one statement that makes a transaction run as the identity, as PostgREST does.
///
/// Every setting is transaction-local (`is_local = true`), so `COMMIT` or `ROLLBACK`
/// undoes it and nothing stays on the pooled connection. Claims and role travel as bind
/// parameters, never as SQL text.
///
/// `request.jwt.claim.sub` as well as the claims: `auth.uid()` reads it first, so a
/// policy's `(select auth.uid())` takes a setting instead of parsing the whole claims
/// JSON in every statement (6 to 8 µs of server CPU per transaction with typical claims,
/// measured with pgbench; see BENCHMARKS.md).
const SET_CONTEXT: &str = "select set_config('request.jwt.claims', $1, true), \
     set_config('request.jwt.claim.sub', $2, true), set_config('role', $3, true)";

/// A sqlx [`PgPool`] that hands out transactions scoped to a user, so PostgreSQL row-level
/// security decides what each query sees. Cheap to clone (the pool is reference-counted).
///
/// The pool's own role (the one in the connection string, `postgres` on Supabase) must be
/// a member of `anon` and `authenticated` so it can switch to them, as Supabase's is.
#[derive(Clone)]
pub struct RlsPool {
    pool: PgPool,
}

impl RlsPool {
    /// Wraps a pool.
    ///
    /// No hook is needed on the pool: the scoped settings are transaction-local, and sqlx
    /// finishes a dropped transaction's `ROLLBACK` (it checks each connection on release,
    /// and again before the next acquire with the default
    /// [`test_before_acquire`](sqlx::pool::PoolOptions::test_before_acquire)) before anyone
    /// else can use the connection.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Begins a transaction as `identity`: `BEGIN`, then one statement,
    /// `select set_config('request.jwt.claims', $1, true),
    /// set_config('request.jwt.claim.sub', $2, true), set_config('role', $3, true)`,
    /// with the claims JSON, the user id and the role name as bind parameters.
    ///
    /// Fails with kind [`PoolTimedOut`](crate::RlsErrorKind::PoolTimedOut) when no
    /// connection frees up within the pool's acquire timeout, and
    /// [`Database`](crate::RlsErrorKind::Database) for anything else (for example when
    /// the pool's role may not `set role` to the identity's role).
    pub async fn begin(&self, identity: &DbIdentity) -> Result<ScopedTransaction, RlsError> {
        let mut tx = self.pool.begin().await?;
        // If this is cancelled or fails, dropping `tx` queues the ROLLBACK.
        sqlx::query(SET_CONTEXT)
            .bind(identity.claims_json())
            .bind(identity.sub())
            .bind(identity.role().as_str())
            .execute(&mut *tx)
            .await?;
        tracing::trace!(
            role = identity.role().as_str(),
            "began a scoped transaction"
        );
        Ok(ScopedTransaction {
            tx,
            role: identity.role(),
        })
    }

    /// Begins a transaction as the owner of `claims`, or as `anon` when there are none
    /// (a signed-out request).
    ///
    /// A token whose role is neither `authenticated` nor `anon` fails with kind
    /// [`UnsupportedRole`](crate::RlsErrorKind::UnsupportedRole) before any connection is
    /// taken from the pool.
    pub async fn begin_for(
        &self,
        claims: Option<&VerifiedClaims>,
    ) -> Result<ScopedTransaction, RlsError> {
        let identity = match claims {
            Some(claims) => DbIdentity::from_claims(claims)?,
            None => DbIdentity::anon(),
        };
        self.begin(&identity).await
    }

    /// **Bypasses row-level security**: a plain transaction as the pool's own role, with
    /// no claims set.
    ///
    /// This is the admin path (`withPostgresAdminClient` in `@supabase/server`), for work
    /// the server does on its own authority: background jobs, webhooks, an operation an
    /// admin check already allowed. Whether RLS really is bypassed depends on the pool's
    /// role: a superuser, a role with `bypassrls`, or the owner of a table (unless the
    /// table has `force row level security`) is not subject to its policies.
    pub async fn begin_bypassing_rls(&self) -> Result<Transaction<'static, Postgres>, RlsError> {
        Ok(self.pool.begin().await?)
    }

    /// **Bypasses row-level security**: the pool itself, whose queries run as the pool's
    /// own role, like [`begin_bypassing_rls`](Self::begin_bypassing_rls) does.
    pub fn bypass_rls_pool(&self) -> &PgPool {
        &self.pool
    }
}

impl fmt::Debug for RlsPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the pool's Debug: that prints its connect options.
        f.debug_struct("RlsPool")
            .field("size", &self.pool.size())
            .field("idle", &self.pool.num_idle())
            .finish_non_exhaustive()
    }
}

/// A transaction that runs as a user: row-level security applies to every query in it,
/// and `auth.uid()`, `auth.role()` and `auth.jwt()` read the user's claims.
///
/// It dereferences to a [`PgConnection`], so queries run on `&mut *tx`. End it with
/// [`commit`](Self::commit); dropping it (an early `?` return, a panic, a cancelled
/// future) rolls it back, and sqlx sends that `ROLLBACK` before the connection serves
/// anyone else.
///
/// ```no_run
/// # async fn f(pool: &supabase_ssr_postgres::RlsPool) -> Result<(), Box<dyn std::error::Error>> {
/// let mut tx = pool.begin(&supabase_ssr_postgres::DbIdentity::anon()).await?;
/// let rows: Vec<(String,)> = sqlx::query_as("select body from public.notes")
///     .fetch_all(&mut *tx)
///     .await?;
/// tx.commit().await?;
/// # let _ = rows; Ok(()) }
/// ```
pub struct ScopedTransaction {
    tx: Transaction<'static, Postgres>,
    role: DbRole,
}

impl ScopedTransaction {
    /// Commits. The role and claims end with the transaction.
    pub async fn commit(self) -> Result<(), RlsError> {
        Ok(self.tx.commit().await?)
    }

    /// Rolls back now, rather than when dropped.
    pub async fn rollback(self) -> Result<(), RlsError> {
        Ok(self.tx.rollback().await?)
    }

    /// The role the transaction runs as.
    pub fn role(&self) -> DbRole {
        self.role
    }
}

impl Deref for ScopedTransaction {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.tx
    }
}

impl DerefMut for ScopedTransaction {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.tx
    }
}

impl fmt::Debug for ScopedTransaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopedTransaction")
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}
