//! The write plan: the one list handed to `set_all` when stored items change, as
//! `@supabase/ssr`'s `applyServerStorage` builds it.

use std::collections::{HashMap, HashSet};

use super::chunk::{create_chunks, is_chunk_like};
use super::{Cookie, CookieConfig, SetCookie};

/// Builds the cookies to write when the items `sets` (storage key, stored value before
/// cookie encoding) are written and the items `removes` deleted, given the cookies the
/// client currently sees.
///
/// - every cookie that is chunk-like for a removed key is deleted;
/// - a set item is encoded and chunked; its chunk-like cookies that the new chunks do
///   not overwrite are deleted (stale chunks);
/// - a chunk whose current value is already the new one is skipped, and only cookies
///   that exist are deleted;
/// - the list is: host-only deletions (only when a domain is configured), deletions,
///   then sets.
///
/// An empty list means there is nothing to write.
pub fn plan_writes(
    current: &[Cookie],
    sets: &[(&str, &str)],
    removes: &[&str],
    config: &CookieConfig,
) -> Vec<SetCookie> {
    let mut remove_names: Vec<&str> = Vec::new();
    for key in removes {
        remove_names.extend(
            current
                .iter()
                .map(|c| c.name.as_str())
                .filter(|n| is_chunk_like(n, key)),
        );
    }
    // The cookie list comes from the browser, so every lookup below is hashed: the
    // plan costs O(cookies + chunks), however many chunk-like cookies are sent.
    let mut chunks: Vec<(String, String)> = Vec::new();
    for (key, value) in sets {
        let encoded = config.encode_value(value);
        let new_chunks = create_chunks(key, &encoded);
        let new_names: HashSet<&str> = new_chunks.iter().map(|(n, _)| n.as_str()).collect();
        let mut stale: HashSet<&str> = HashSet::new();
        for c in current {
            let n = c.name.as_str();
            if is_chunk_like(n, key) && !new_names.contains(n) && stale.insert(n) {
                remove_names.push(n);
            }
        }
        chunks.extend(new_chunks);
    }
    // `@supabase/ssr` looks values up in a Map built from the cookie list, where the
    // last of a duplicated name wins.
    let values: HashMap<&str, &str> = current
        .iter()
        .map(|c| (c.name.as_str(), c.value.as_str()))
        .collect();
    let current_value = |name: &str| values.get(name).copied();
    let removals: Vec<&str> = remove_names
        .into_iter()
        .filter(|n| current_value(n).is_some())
        .collect();
    let writes: Vec<(String, String)> = chunks
        .into_iter()
        .filter(|(name, value)| current_value(name) != Some(value.as_str()))
        .collect();

    let mut out = Vec::with_capacity(removals.len() * 2 + writes.len());
    if config.domain.is_some() && !removals.is_empty() {
        let mut host_only = config.remove_options();
        host_only.domain = None;
        out.extend(removals.iter().map(|n| SetCookie {
            name: (*n).to_owned(),
            value: String::new(),
            options: host_only.clone(),
        }));
    }
    let remove_options = config.remove_options();
    out.extend(removals.iter().map(|n| SetCookie {
        name: (*n).to_owned(),
        value: String::new(),
        options: remove_options.clone(),
    }));
    let set_options = config.set_options();
    out.extend(writes.into_iter().map(|(name, value)| SetCookie {
        name,
        value,
        options: set_options.clone(),
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cookies::to_base64_value;

    fn names(plan: &[SetCookie]) -> Vec<(String, Option<i64>, Option<String>)> {
        plan.iter()
            .map(|c| (c.name.clone(), c.options.max_age, c.options.domain.clone()))
            .collect()
    }

    #[test]
    fn stale_chunks_are_removed_before_sets() {
        // The case verified against @supabase/ssr: K, K.0, K.1, K.2, K.5 present and a
        // new value needing three chunks.
        let current: Vec<Cookie> = ["K", "K.0", "K.1", "K.2", "K.5"]
            .iter()
            .map(|n| Cookie::new(*n, "old"))
            .collect();
        let value = "x".repeat(7000);
        let plan = plan_writes(&current, &[("K", &value)], &[], &CookieConfig::default());
        let got = names(&plan);
        assert_eq!(
            got,
            vec![
                ("K".into(), Some(0), None),
                ("K.5".into(), Some(0), None),
                ("K.0".into(), Some(34_560_000), None),
                ("K.1".into(), Some(34_560_000), None),
                ("K.2".into(), Some(34_560_000), None),
            ]
        );
    }

    #[test]
    fn unchanged_values_are_skipped_and_absent_cookies_not_deleted() {
        let value = "{\"a\":1}";
        let current = vec![Cookie::new("K", to_base64_value(value))];
        assert!(plan_writes(&current, &[("K", value)], &[], &CookieConfig::default()).is_empty());
        assert!(plan_writes(&[], &[], &["K"], &CookieConfig::default()).is_empty());
    }

    #[test]
    fn many_chunk_like_cookies_are_planned_in_linear_time() {
        let mut current: Vec<Cookie> = (0..100_000)
            .map(|i| Cookie::new(format!("K.{i}"), "x"))
            .collect();
        current.push(Cookie::new("K", "old"));
        let started = std::time::Instant::now();
        let plan = plan_writes(&current, &[("K", "{}")], &[], &CookieConfig::default());
        // K.0 .. K.99999 are stale; K itself is overwritten.
        assert_eq!(plan.len(), 100_001);
        assert!(plan[..100_000].iter().all(|c| c.options.is_removal()));
        assert_eq!(plan[100_000].name, "K");
        let removal = plan_writes(&current, &[], &["K"], &CookieConfig::default());
        assert_eq!(removal.len(), 100_001);
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }

    #[test]
    fn domain_adds_host_only_deletions_first() {
        let config = CookieConfig {
            domain: Some(".example.com".into()),
            ..CookieConfig::default()
        };
        let current = vec![Cookie::new("K.0", "a"), Cookie::new("K.1", "b")];
        let plan = plan_writes(&current, &[], &["K"], &config);
        assert_eq!(
            names(&plan),
            vec![
                ("K.0".into(), Some(0), None),
                ("K.1".into(), Some(0), None),
                ("K.0".into(), Some(0), Some(".example.com".into())),
                ("K.1".into(), Some(0), Some(".example.com".into())),
            ]
        );
    }
}
