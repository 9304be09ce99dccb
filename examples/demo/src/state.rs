//! What every handler shares.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::http::{HeaderMap, header};
use sha2::{Digest, Sha256};
use supabase_ssr::SupabaseAuth;
use supabase_ssr_postgres::RlsPool;

pub(crate) type Shared = Arc<AppState>;

pub(crate) struct AppState {
    pub(crate) auth: SupabaseAuth,
    /// The Supabase project URL (the emulator's, or a real project's).
    pub(crate) supabase_url: String,
    /// The publishable key, handed to the browser client.
    pub(crate) supabase_key: String,
    /// The emulator's inbox page, in emulator mode.
    pub(crate) inbox_url: Option<String>,
    /// The seeded user, shown on the sign-in page in emulator mode.
    pub(crate) demo_user: Option<(String, String)>,
    /// The app's public origin.
    pub(crate) public_url: String,
    /// Other `Host` values this app answers to directly (`localhost:PORT`).
    pub(crate) alias_hosts: Vec<String>,
    pub(crate) oauth_providers: Vec<String>,
    pub(crate) refresh_margin: Duration,
    pub(crate) access_token_lifetime: Option<Duration>,
    pub(crate) refresh_log: RefreshLog,
    /// The notes database; `None` when there is none.
    pub(crate) notes_db: Option<RlsPool>,
    /// What the notes pages say when there is no database.
    pub(crate) notes_unavailable: String,
    /// The same database, when it has `public.profiles` for the account page; else why
    /// not.
    pub(crate) profiles: Result<RlsPool, String>,
}

impl AppState {
    /// The origin for absolute redirect URLs (emails, OAuth): the request's own when it
    /// came to a known alias (`localhost` instead of `127.0.0.1`), so the PKCE cookies
    /// set now are sent back to the callback; the configured public URL otherwise.
    pub(crate) fn origin_for(&self, headers: &HeaderMap) -> String {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        if self.alias_hosts.iter().any(|a| a == host) {
            format!("http://{host}")
        } else {
            self.public_url.clone()
        }
    }

    /// `<origin>/auth/callback?next=<next>`, where emails and OAuth come back to.
    pub(crate) fn callback_url(&self, headers: &HeaderMap, next: &str) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("next", next)
            .finish();
        format!("{}/auth/callback?{query}", self.origin_for(headers))
    }
}

/// A refresh token as the dashboard shows it: a short hash, never the token.
pub(crate) fn fingerprint(refresh_token: &str) -> String {
    let digest = Sha256::digest(refresh_token.as_bytes());
    digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// One refresh token seen on the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Seen {
    pub(crate) fingerprint: String,
    /// `iat` of the access token that came with it.
    pub(crate) issued_at: i64,
}

/// The refresh tokens the dashboard saw per Auth session, so a reload after the
/// expiry visibly shows the rotation. Bounded: a few entries per session, a few
/// hundred sessions.
#[derive(Default)]
pub(crate) struct RefreshLog {
    sessions: Mutex<HashMap<String, VecDeque<Seen>>>,
}

const PER_SESSION: usize = 6;
const SESSIONS: usize = 500;

impl RefreshLog {
    /// Records `seen` for `session_id` (unless it is the latest already) and returns the
    /// history, newest first.
    pub(crate) fn record(&self, session_id: &str, seen: Seen) -> Vec<Seen> {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        if sessions.len() >= SESSIONS && !sessions.contains_key(session_id) {
            sessions.clear();
        }
        let history = sessions.entry(session_id.to_owned()).or_default();
        if history.front().map(|s| &s.fingerprint) != Some(&seen.fingerprint) {
            history.push_front(seen);
            history.truncate(PER_SESSION);
        }
        history.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_keeps_new_tokens_newest_first() {
        let log = RefreshLog::default();
        let seen = |f: &str, t| Seen {
            fingerprint: f.into(),
            issued_at: t,
        };
        assert_eq!(log.record("s", seen("aa", 1)), vec![seen("aa", 1)]);
        assert_eq!(log.record("s", seen("aa", 1)), vec![seen("aa", 1)]);
        assert_eq!(
            log.record("s", seen("bb", 2)),
            vec![seen("bb", 2), seen("aa", 1)]
        );
        for i in 0..10 {
            log.record("s", seen(&i.to_string(), i));
        }
        assert_eq!(log.record("s", seen("9", 9)).len(), PER_SESSION);
        assert_eq!(log.record("other", seen("cc", 3)), vec![seen("cc", 3)]);
    }

    #[test]
    fn fingerprints_are_short_and_stable() {
        assert_eq!(fingerprint("abc"), "ba7816bf");
        assert_ne!(fingerprint("abc"), fingerprint("abd"));
    }
}
