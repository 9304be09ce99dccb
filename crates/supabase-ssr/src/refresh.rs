//! One refresh per refresh token per process.
//!
//! Concurrent requests holding the same refresh token share one `POST /token` call; a
//! request that arrives within the reuse window after it, still holding the old refresh
//! token, gets the already rotated session instead of spending the old token again
//! (which the Auth server would answer with "Already Used" outside its own window).

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use crate::AuthError;
use crate::session::UnverifiedSession;

type Outcome = Result<UnverifiedSession, AuthError>;

struct Entry {
    cell: OnceCell<Outcome>,
    /// Clock millis when the refresh finished; `i64::MAX` while in flight.
    finished_at: AtomicI64,
}

#[derive(Default)]
struct Table {
    entries: HashMap<Arc<str>, Arc<Entry>>,
    /// Keys in insertion order, to drop finished entries without scanning the map.
    order: VecDeque<Arc<str>>,
}

pub(crate) struct RefreshCoordinator {
    table: Mutex<Table>,
    reuse_window_millis: i64,
}

impl RefreshCoordinator {
    pub(crate) fn new(reuse_window_millis: i64) -> Self {
        Self {
            table: Mutex::new(Table::default()),
            reuse_window_millis,
        }
    }

    fn is_stale(&self, entry: &Entry, now: i64) -> bool {
        let finished = entry.finished_at.load(Ordering::SeqCst);
        finished != i64::MAX && finished.saturating_add(self.reuse_window_millis) < now
    }

    fn entry_for(&self, refresh_token: &str, now: i64) -> Arc<Entry> {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(front) = table.order.front().cloned() {
            let stale = table
                .entries
                .get(&front)
                .is_none_or(|e| self.is_stale(e, now));
            if !stale {
                break;
            }
            // `stale` covers both cases: no entry (removing is a no-op) or a stale one.
            table.order.pop_front();
            table.entries.remove(&front);
        }
        if let Some(e) = table
            .entries
            .get(refresh_token)
            .filter(|e| !self.is_stale(e, now))
        {
            return e.clone();
        }
        let key: Arc<str> = Arc::from(refresh_token);
        let entry = Arc::new(Entry {
            cell: OnceCell::new(),
            finished_at: AtomicI64::new(i64::MAX),
        });
        table.entries.insert(key.clone(), entry.clone());
        table.order.push_back(key);
        entry
    }

    /// Runs `refresh` unless a refresh of the same token is in flight or finished within
    /// the reuse window; then its outcome is shared. Failures are shared only with the
    /// requests that waited for them: the next request tries again.
    pub(crate) async fn refresh<F, Fut>(
        &self,
        refresh_token: &str,
        now: impl Fn() -> i64,
        refresh: F,
    ) -> Outcome
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Outcome>,
    {
        let entry = self.entry_for(refresh_token, now());
        let outcome = entry
            .cell
            .get_or_init(|| async {
                let outcome = refresh().await;
                entry.finished_at.store(now(), Ordering::SeqCst);
                outcome
            })
            .await
            .clone();
        if outcome.is_err() {
            let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
            if table
                .entries
                .get(refresh_token)
                .is_some_and(|e| Arc::ptr_eq(e, &entry))
            {
                table.entries.remove(refresh_token);
            }
        }
        outcome
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.table.lock().map(|t| t.entries.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::clock::{Clock, ManualClock};
    use std::sync::atomic::AtomicUsize;

    fn session(rt: &str) -> UnverifiedSession {
        let body = serde_json::json!({"access_token": "a", "refresh_token": rt, "expires_in": 10, "expires_at": 10});
        UnverifiedSession::from_auth_response(body.as_object().unwrap().clone(), 0).unwrap()
    }

    #[tokio::test]
    async fn concurrent_and_late_callers_share_one_refresh() {
        let clock = ManualClock::new(1_000);
        let coordinator = Arc::new(RefreshCoordinator::new(10_000));
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (c, calls, clock) = (coordinator.clone(), calls.clone(), clock.clone());
            tasks.push(tokio::spawn(async move {
                c.refresh(
                    "old",
                    || clock.now_millis(),
                    || async {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        Ok(session("new"))
                    },
                )
                .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap().refresh_token(), "new");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        // Inside the window: served from the finished refresh.
        clock.advance_millis(10_000);
        let late = coordinator
            .refresh(
                "old",
                || clock.now_millis(),
                || async { Ok(session("other")) },
            )
            .await
            .unwrap();
        assert_eq!(late.refresh_token(), "new");

        // Past the window: a new refresh, and the old entry is gone.
        clock.advance_millis(1);
        let later = coordinator
            .refresh(
                "old",
                || clock.now_millis(),
                || async { Ok(session("third")) },
            )
            .await
            .unwrap();
        assert_eq!(later.refresh_token(), "third");
        assert_eq!(coordinator.len(), 1);
    }

    #[tokio::test]
    async fn failures_are_not_kept() {
        let clock = ManualClock::new(0);
        let coordinator = RefreshCoordinator::new(10_000);
        let err = coordinator
            .refresh(
                "rt",
                || clock.now_millis(),
                || async { Err(AuthError::session_missing()) },
            )
            .await;
        assert!(err.is_err());
        let ok = coordinator
            .refresh("rt", || clock.now_millis(), || async { Ok(session("n")) })
            .await
            .unwrap();
        assert_eq!(ok.refresh_token(), "n");
    }
}
