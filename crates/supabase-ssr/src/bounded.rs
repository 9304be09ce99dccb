//! A bounded map from exact strings to values, shared by every request of a process:
//! the store behind the decoded-session cache and the verified-token cache.
//!
//! At most `max_entries` entries; inserting into a full map overwrites the oldest entry
//! (a ring, O(1) per operation), so memory stays flat however many distinct keys pass
//! through. Keys are hashed with a per-process seed over the parts the owner chooses
//! (a sample of a long key), so nobody can aim keys at one bucket; keys that share a
//! hash only compete for a slot, and a hit always compares every byte of the key.
//!
//! A large map is split into shards by hash, each a ring behind its own lock, so threads
//! serving different users rarely wait for each other (one lock for the whole map made
//! two threads 1.67 times slower per request than one, `benches/contention.rs`). A full
//! shard overwrites its own oldest entry: the map as a whole forgets roughly the oldest.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::{Mutex, MutexGuard, PoisonError};

use foldhash::fast::RandomState;

pub(crate) struct BoundedMap<V> {
    /// Entries per shard.
    shard_entries: usize,
    hasher: RandomState,
    // Each held only for lookups and slot updates, never across an await.
    shards: Box<[Mutex<Ring<V>>]>,
}

/// Most shards a map is split into.
const MAX_SHARDS: usize = 16;
/// Fewest entries a shard holds: smaller maps are split into fewer shards (a map of up
/// to 127 entries is one ring, exactly oldest-first).
const MIN_SHARD_ENTRIES: usize = 64;

/// Entries in insertion order, in slots reused in turn once all are taken.
struct Ring<V> {
    /// Key hash -> slot.
    index: HashMap<u64, usize, BuildHasherDefault<Prehashed>>,
    /// Grows up to `max_entries`, then stays that long.
    slots: Vec<Option<Entry<V>>>,
    /// The slot the next insertion overwrites once `slots` is full: the oldest.
    next: usize,
}

struct Entry<V> {
    hash: u64,
    /// A `String` rather than a `Box<str>` so that its buffer can take the next key.
    key: String,
    value: V,
}

impl<V> BoundedMap<V> {
    /// A map of at most `max_entries` entries (at least 1; a map split into shards may
    /// hold up to one more per shard, as each takes its share rounded up).
    pub(crate) fn new(max_entries: usize) -> Self {
        let max_entries = max_entries.max(1);
        let shards = (max_entries / MIN_SHARD_ENTRIES).clamp(1, MAX_SHARDS);
        Self {
            shard_entries: max_entries.div_ceil(shards),
            hasher: RandomState::default(),
            shards: (0..shards)
                .map(|_| {
                    Mutex::new(Ring {
                        index: HashMap::default(),
                        slots: Vec::new(),
                        next: 0,
                    })
                })
                .collect(),
        }
    }

    /// The hash of a key, from the parts of it the owner picked (they must be a
    /// function of the key alone).
    pub(crate) fn hash(&self, parts: &[&[u8]]) -> u64 {
        let mut h = self.hasher.build_hasher();
        for part in parts {
            h.write(part);
        }
        h.finish()
    }

    /// The shard of `hash`, locked. The high bits choose it: the index within a shard
    /// uses the whole hash.
    fn lock(&self, hash: u64) -> MutexGuard<'_, Ring<V>> {
        let shard = ((hash >> 32) as usize) % self.shards.len();
        // Index and slots change together with nothing in between that can panic, so a
        // poisoned lock is still consistent.
        self.shards[shard]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// `read` of the value stored for exactly `key` (of hash `hash`), compared byte for
    /// byte. When `read` returns `None` the entry is dropped.
    pub(crate) fn get<R>(
        &self,
        key: &(impl AsRef<[u8]> + ?Sized),
        hash: u64,
        read: impl FnOnce(&V) -> Option<R>,
    ) -> Option<R> {
        let mut ring = self.lock(hash);
        let slot = *ring.index.get(&hash)?;
        let entry = ring.slots.get(slot)?.as_ref()?;
        if entry.key.as_bytes() != key.as_ref() {
            return None;
        }
        let out = read(&entry.value);
        if out.is_none() {
            ring.clear_slot(slot);
        }
        out
    }

    /// Stores `value` for `key`. A key already present (or another with the same
    /// hash) is replaced in place.
    pub(crate) fn insert(&self, key: &str, hash: u64, value: V) {
        self.insert_reusing(key, hash, |_| (value, ()));
    }

    /// Stores the value `build` makes for `key`, handing `build` the value it replaces:
    /// the one stored for this key (or another of the same hash), or the oldest when
    /// the map is full. A caller can rebuild that value in place instead of allocating
    /// a new one, and the key's buffer is reused too: under a stream of distinct keys a
    /// full map then stops asking the allocator for memory. That matters with glibc,
    /// whose per-thread arenas keep what one thread frees for that thread's next
    /// allocations: entries made on one thread and dropped on another would spread the
    /// map over every arena in turn. `build` runs under the map's lock; keep it short.
    pub(crate) fn insert_reusing<R>(
        &self,
        key: &str,
        hash: u64,
        build: impl FnOnce(Option<V>) -> (V, R),
    ) -> R {
        let mut ring = self.lock(hash);
        let same_hash = ring.index.get(&hash).copied();
        let slot = match same_hash {
            Some(slot) if slot < ring.slots.len() => slot,
            _ if ring.slots.len() < self.shard_entries => {
                ring.slots.push(None);
                ring.slots.len() - 1
            }
            _ => {
                let oldest = ring.next;
                ring.next = (oldest + 1) % self.shard_entries;
                oldest
            }
        };
        let old = ring.take_slot(slot);
        let (mut key_buf, old_value) = match old {
            Some(entry) => (entry.key, Some(entry.value)),
            None => (String::new(), None),
        };
        overwrite_string(&mut key_buf, key);
        let (value, out) = build(old_value);
        ring.slots[slot] = Some(Entry {
            hash,
            key: key_buf,
            value,
        });
        ring.index.insert(hash, slot);
        out
    }

    /// Forgets `key`.
    pub(crate) fn remove(&self, key: &str, hash: u64) {
        let mut ring = self.lock(hash);
        let Some(&slot) = ring.index.get(&hash) else {
            return;
        };
        if ring
            .slots
            .get(slot)
            .and_then(Option::as_ref)
            .is_some_and(|e| &*e.key == key)
        {
            ring.clear_slot(slot);
        }
    }

    /// How many entries are held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| {
                shard
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .index
                    .len()
            })
            .sum()
    }
}

impl<V> Ring<V> {
    fn clear_slot(&mut self, slot: usize) {
        drop(self.take_slot(slot));
    }

    /// Empties `slot` and gives back what it held.
    fn take_slot(&mut self, slot: usize) -> Option<Entry<V>> {
        let old = self.slots.get_mut(slot).and_then(Option::take)?;
        // The index may already point elsewhere for this hash (a colliding key took
        // over); only remove what points here.
        if self.index.get(&old.hash) == Some(&slot) {
            self.index.remove(&old.hash);
        }
        Some(old)
    }
}

/// Makes `to` a copy of `from` in the buffer `to` already has. A buffer too small grows
/// to the new length plus an eighth, rather than doubling (as `clone_from` would) or to
/// the exact length: a value rewritten in place again and again settles at about the
/// largest size it has to hold, without moving every time it grows by a byte.
pub(crate) fn overwrite_string(to: &mut String, from: &str) {
    to.clear();
    if to.capacity() < from.len() {
        to.reserve_exact(from.len() + from.len() / 8);
    }
    to.push_str(from);
}

/// The index's keys are already seeded hashes; hashing them again would only cost time.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used by `u64` keys; this keeps any other use correct.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn map(n: usize) -> (BoundedMap<u32>, impl Fn(&BoundedMap<u32>, &str) -> u64) {
        (BoundedMap::new(n), |m: &BoundedMap<u32>, k: &str| {
            m.hash(&[k.as_bytes()])
        })
    }

    #[test]
    fn the_ring_reuses_slots_and_replaces_a_key_in_place() {
        let (m, h) = map(2);
        m.insert("a", h(&m, "a"), 1);
        m.insert("a", h(&m, "a"), 2);
        assert_eq!(m.len(), 1, "the same key takes one slot");
        assert_eq!(m.get("a", h(&m, "a"), |v| Some(*v)), Some(2));
        m.insert("b", h(&m, "b"), 3);
        m.insert("c", h(&m, "c"), 4);
        assert_eq!(m.len(), 2);
        assert_eq!(
            m.get("a", h(&m, "a"), |v| Some(*v)),
            None,
            "the oldest went"
        );
        assert_eq!(m.get("b", h(&m, "b"), |v| Some(*v)), Some(3));
        m.remove("b", h(&m, "b"));
        assert_eq!(m.len(), 1);
        // A reader that declines drops the entry.
        assert_eq!(m.get("c", h(&m, "c"), |_| None::<()>), None);
        assert_eq!(m.len(), 0);
        for n in 0..10_000 {
            let k = n.to_string();
            m.insert(&k, h(&m, &k), n);
        }
        assert_eq!(m.len(), 2);
        assert_eq!(m.get("9999", h(&m, "9999"), |v| Some(*v)), Some(9999));
    }

    #[test]
    fn an_insertion_gets_the_value_it_replaces_and_reuses_the_key_buffer() {
        let m = BoundedMap::<String>::new(2);
        let h = |k: &str| m.hash(&[k.as_bytes()]);
        let seen =
            |key: &str, value: &str| m.insert_reusing(key, h(key), |old| (value.to_owned(), old));
        assert_eq!(seen("a", "1"), None);
        assert_eq!(seen("bb", "2"), None);
        assert_eq!(seen("a", "3"), Some("1".to_owned()), "the same key's value");
        let key_at = |key: &str| {
            let ring = m.lock(h(key));
            let slot = ring.index[&h(key)];
            ring.slots[slot].as_ref().unwrap().key.as_ptr()
        };
        // Replacing a value in place does not make it younger: "a" is still the oldest.
        let oldest_key = key_at("a");
        assert_eq!(seen("c", "4"), Some("3".to_owned()), "the oldest's value");
        assert_eq!(key_at("c"), oldest_key, "the key went into the old buffer");
        assert_eq!(
            m.get("c", h("c"), |v| Some(v.clone())),
            Some("4".to_owned())
        );
        assert_eq!(m.get("a", h("a"), |v| Some(v.clone())), None);
        assert_eq!(
            seen("dd", "5"),
            Some("2".to_owned()),
            "then the next oldest"
        );
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn a_large_map_is_sharded_and_stays_within_its_bound() {
        let m = BoundedMap::<u32>::new(10_000);
        assert_eq!((m.shards.len(), m.shard_entries), (16, 625));
        assert_eq!(BoundedMap::<u32>::new(127).shards.len(), 1);
        assert_eq!(BoundedMap::<u32>::new(128).shards.len(), 2);
        for n in 0..100_000 {
            let k = n.to_string();
            m.insert(&k, m.hash(&[k.as_bytes()]), n);
        }
        assert_eq!(m.len(), 10_000, "every shard full, none over");
        // The newest keys are all there: each shard forgets its own oldest.
        let newest_kept = (99_000..100_000)
            .filter(|n: &u32| {
                let k = n.to_string();
                m.get(&k, m.hash(&[k.as_bytes()]), |v| Some(*v)) == Some(*n)
            })
            .count();
        assert_eq!(newest_kept, 1_000);
    }

    #[test]
    fn overwriting_a_string_grows_its_buffer_by_an_eighth_only_when_needed() {
        let mut s = String::with_capacity(100);
        let at = s.as_ptr();
        overwrite_string(&mut s, &"x".repeat(100));
        assert_eq!((s.len(), s.capacity(), s.as_ptr()), (100, 100, at));
        overwrite_string(&mut s, "short");
        assert_eq!((s.as_str(), s.capacity()), ("short", 100));
        overwrite_string(&mut s, &"y".repeat(160));
        assert_eq!((s.len(), s.capacity()), (160, 180));
        assert!(s.bytes().all(|b| b == b'y'));
    }

    #[test]
    fn a_hit_needs_the_exact_key_even_when_hashes_collide() {
        let (m, _) = map(4);
        // Two keys forced onto one hash: they compete for one slot.
        m.insert("x", 7, 1);
        assert_eq!(m.get("y", 7, |v| Some(*v)), None);
        m.insert("y", 7, 2);
        assert_eq!(m.get("x", 7, |v| Some(*v)), None);
        assert_eq!(m.get("y", 7, |v| Some(*v)), Some(2));
        m.remove("x", 7);
        assert_eq!(
            m.len(),
            1,
            "removing another key of the same hash changes nothing"
        );
        assert_eq!(m.hash(&[b"ab", b"c"]), m.hash(&[b"ab", b"c"]));
    }
}
