//! Decoded sessions by cookie value: a browser sends the same session cookies with every
//! request until the next refresh, and decoding them (base64 of a few kilobytes, then
//! JSON) is most of what reading a session costs. Reading is a pure function of those
//! bytes, so its result is kept per process, keyed by the exact combined cookie value.
//!
//! Only valid sessions are kept; nothing about trust changes (the session is as
//! unverified as before, and every refresh and verification decision is made again on
//! each request). Bounded: at most `max_entries` values in a [`BoundedMap`] (a full
//! cache overwrites its oldest entry), so memory stays flat under any stream of
//! distinct cookies.

use super::UnverifiedSession;
use crate::bounded::BoundedMap;

/// Default number of entries: 10,000 users active at once with room to spare (each of
/// the 16 shards holds 1,024, against 625 on average for 10,000 users). An entry holds
/// the cookie value and the session, about 3.9 KB for a typical session (measured with
/// `bench memory --sessions`), so a full cache is about 64 MB; a process takes that
/// memory only as it sees that many sessions.
pub(crate) const DEFAULT_MAX_ENTRIES: usize = 16_384;

pub(crate) struct SessionCache {
    sessions: BoundedMap<UnverifiedSession>,
}

impl SessionCache {
    /// `None` for `max_entries == 0`: the cache is off.
    pub(crate) fn new(max_entries: usize) -> Option<Self> {
        (max_entries > 0).then(|| Self {
            sessions: BoundedMap::new(max_entries),
        })
    }

    /// Hashes the first 512 bytes, the last 128 and the length: the cookies of two
    /// users already differ there (the access token's `sub`, `exp` and `iat` are in the
    /// first 512 bytes), and a full hash would cost more than the rest of a cache hit.
    /// Values that share a hash (say, two sessions of one user issued in the same
    /// second) only compete for a slot; a hit compares every byte.
    fn hash(&self, bytes: &[u8]) -> u64 {
        let head = &bytes[..bytes.len().min(512)];
        let tail = &bytes[bytes.len().saturating_sub(128)..];
        self.sessions
            .hash(&[head, tail, &bytes.len().to_le_bytes()])
    }

    /// The session read from exactly these bytes of a combined cookie value before.
    pub(crate) fn get(&self, combined: &(impl AsRef<[u8]> + ?Sized)) -> Option<UnverifiedSession> {
        let combined = combined.as_ref();
        self.sessions
            .get(combined, self.hash(combined), |s| Some(s.clone()))
    }

    /// Remembers the session read from `combined`.
    pub(crate) fn insert(&self, combined: &str, session: UnverifiedSession) {
        self.sessions
            .insert(combined, self.hash(combined.as_bytes()), session);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.sessions.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::session::Stored;

    fn session(rt: &str) -> UnverifiedSession {
        let json = format!(r#"{{"access_token":"a","refresh_token":"{rt}","expires_at":1}}"#);
        match UnverifiedSession::from_stored_json(&json) {
            Stored::Valid(s) => s,
            _ => panic!("valid"),
        }
    }

    #[test]
    fn hits_only_the_exact_value_and_stays_bounded() {
        let cache = SessionCache::new(3).unwrap();
        assert!(cache.get("v0").is_none());
        for i in 0..10 {
            cache.insert(&format!("v{i}"), session(&format!("r{i}")));
        }
        assert_eq!(cache.len(), 3);
        assert!(
            cache.get("v6").is_none(),
            "the oldest entries were overwritten"
        );
        assert_eq!(cache.get("v9").unwrap().refresh_token(), "r9");
        assert_eq!(cache.get("v7").unwrap().refresh_token(), "r7");
        assert!(cache.get("v9 ").is_none());
        cache.insert("v9", session("again"));
        assert_eq!(cache.get("v9").unwrap().refresh_token(), "again");
        assert_eq!(cache.len(), 3);
        assert!(SessionCache::new(0).is_none());
    }
}
