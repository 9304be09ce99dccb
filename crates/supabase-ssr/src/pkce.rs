//! PKCE verifiers in cookies, compatible with auth-js 2.119: one slot per flow
//! (`K-flow-<id>-code-verifier`), an index of pending flows (`K-flows-code-verifier`,
//! at most five, oldest first) and the legacy key (`K-code-verifier`) mirroring the
//! newest flow. Values are JSON (a string, or an array for the index).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::storage::CookieStorage;

/// Most flows auth-js keeps pending at once.
const MAX_CONCURRENT_FLOWS: usize = 5;

/// A freshly started PKCE flow.
pub(crate) struct Flow {
    pub(crate) challenge: String,
    pub(crate) flow_id: String,
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 0xf)] as char);
    }
    s
}

/// 112 lowercase hex characters, as auth-js makes them.
pub(crate) fn generate_verifier() -> String {
    let mut bytes = [0u8; 56];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

/// 32 lowercase hex characters.
pub(crate) fn generate_flow_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

/// `base64url(sha256(verifier))`, no padding (method `s256`).
pub(crate) fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// auth-js's flow id check: `^[a-zA-Z0-9_-]{8,64}$`.
pub(crate) fn is_valid_flow_id(id: &str) -> bool {
    (8..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub(crate) fn slot_key(storage_key: &str, flow_id: &str) -> String {
    format!("{storage_key}-flow-{flow_id}-code-verifier")
}

pub(crate) fn index_key(storage_key: &str) -> String {
    format!("{storage_key}-flows-code-verifier")
}

pub(crate) fn legacy_key(storage_key: &str) -> String {
    format!("{storage_key}-code-verifier")
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

fn read_index(storage: &CookieStorage, storage_key: &str) -> Vec<String> {
    let Some(raw) = storage.get_item(&index_key(storage_key)) else {
        return Vec::new();
    };
    match serde_json::from_str::<Vec<serde_json::Value>>(&raw) {
        Ok(items) => items
            .into_iter()
            .filter_map(|v| {
                v.as_str()
                    .filter(|s| is_valid_flow_id(s))
                    .map(str::to_owned)
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn write_index(storage: &CookieStorage, storage_key: &str, index: &[String]) {
    let json = serde_json::Value::from(index.to_vec()).to_string();
    storage.apply(&[(&index_key(storage_key), &json)], &[]);
}

/// Starts a flow: stores the verifier in its slot, the index and the legacy key, each
/// written at once (one `set_all` each, as `@supabase/ssr` does for verifier keys).
/// `recovery` flows store `<verifier>/recovery`.
pub(crate) fn start_flow(storage: &CookieStorage, storage_key: &str, recovery: bool) -> Flow {
    start_flow_with(
        storage,
        storage_key,
        recovery,
        generate_verifier(),
        generate_flow_id(),
    )
}

pub(crate) fn start_flow_with(
    storage: &CookieStorage,
    storage_key: &str,
    recovery: bool,
    verifier: String,
    flow_id: String,
) -> Flow {
    let stored = if recovery {
        format!("{verifier}/recovery")
    } else {
        verifier.clone()
    };
    let stored_json = json_string(&stored);
    storage.apply(&[(&slot_key(storage_key, &flow_id), &stored_json)], &[]);
    let mut index: Vec<String> = read_index(storage, storage_key)
        .into_iter()
        .filter(|id| *id != flow_id)
        .collect();
    index.push(flow_id.clone());
    while index.len() > MAX_CONCURRENT_FLOWS {
        let evicted = index.remove(0);
        storage.apply(&[], &[&slot_key(storage_key, &evicted)]);
    }
    write_index(storage, storage_key, &index);
    storage.apply(&[(&legacy_key(storage_key), &stored_json)], &[]);
    Flow {
        challenge: challenge(&verifier),
        flow_id,
    }
}

/// A stored verifier, without the `/recovery` mark of password-recovery flows.
pub(crate) struct StoredVerifier {
    pub(crate) verifier: String,
}

/// Reads the verifier of `flow_id`'s slot, or of the legacy key when no flow id is
/// given (never falling back from a slot to the legacy key, as auth-js).
pub(crate) fn read_verifier(
    storage: &CookieStorage,
    storage_key: &str,
    flow_id: Option<&str>,
) -> Option<StoredVerifier> {
    let key = match flow_id {
        Some(id) => slot_key(storage_key, id),
        None => legacy_key(storage_key),
    };
    let raw = storage.get_item(&key)?;
    let value: String = serde_json::from_str(&raw).ok()?;
    let verifier = match value.split_once('/') {
        Some((v, _kind)) => v.to_owned(),
        None => value,
    };
    if verifier.is_empty() {
        return None;
    }
    Some(StoredVerifier { verifier })
}

/// Removes the slot and index entry of `flow_id` at once (and the legacy key when it
/// holds the same verifier). Used after an exchange with a flow id.
pub(crate) fn remove_flow(storage: &CookieStorage, storage_key: &str, flow_id: &str) -> bool {
    let slot = slot_key(storage_key, flow_id);
    let slot_value = storage.get_item(&slot);
    storage.apply(&[], &[&slot]);
    let index = read_index(storage, storage_key);
    let remaining: Vec<String> = index.iter().filter(|id| *id != flow_id).cloned().collect();
    if remaining.len() != index.len() {
        if remaining.is_empty() {
            storage.apply(&[], &[&index_key(storage_key)]);
        } else {
            write_index(storage, storage_key, &remaining);
        }
    }
    let legacy = legacy_key(storage_key);
    slot_value.is_some() && slot_value == storage.get_item(&legacy)
}

/// Removes every slot in the index and the index itself, each at once. The legacy key
/// is left to the caller, which removes it together with the session.
pub(crate) fn remove_all_slots(storage: &CookieStorage, storage_key: &str) {
    for id in read_index(storage, storage_key) {
        storage.apply(&[], &[&slot_key(storage_key, &id)]);
    }
    storage.apply(&[], &[&index_key(storage_key)]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_and_challenge_shapes() {
        let v = generate_verifier();
        assert_eq!(v.len(), 112);
        assert!(
            v.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_eq!(generate_flow_id().len(), 32);
        // Expected value from Python's hashlib and base64.
        assert_eq!(
            challenge(&"a1".repeat(56)),
            "x96xX0osvzeda7GtbiIpZ809RI0jdO0UkdNTeJ-8KTg"
        );
        assert!(is_valid_flow_id("abcdef12"));
        assert!(!is_valid_flow_id("abc"));
        assert!(!is_valid_flow_id("abcdefgh/"));
    }
}
