//! Splitting a value over `K.0`, `K.1`, ... cookies and joining it back, as
//! `@supabase/ssr`'s `chunker.ts` does.

use std::borrow::Cow;

use super::encode::{encoded_char_len, encoded_len};

/// The largest `encodeURIComponent` length of one cookie value.
pub const MAX_CHUNK_SIZE: usize = 3180;

/// `true` if `name` is `key` itself or `key.N` with `N` a decimal without leading zero.
pub fn is_chunk_like(name: &str, key: &str) -> bool {
    if name == key {
        return true;
    }
    // The JS regex `^(.*)[.](0|[1-9][0-9]*)$` is greedy, so the index is what follows
    // the last dot.
    let Some(dot) = name.rfind('.') else {
        return false;
    };
    let (prefix, index) = (&name[..dot], &name[dot + 1..]);
    prefix == key && is_chunk_index(index)
}

fn is_chunk_index(s: &str) -> bool {
    match s.as_bytes() {
        [b'0'] => true,
        [b'1'..=b'9', rest @ ..] => rest.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

/// The chunks of `value` under `key`: one cookie named `key` when the encoded value
/// fits, else `key.0`, `key.1`, ... each as long as possible without splitting a
/// character or an escape.
pub fn create_chunks(key: &str, value: &str) -> Vec<(String, String)> {
    create_chunks_sized(key, value, MAX_CHUNK_SIZE)
}

pub(crate) fn create_chunks_sized(key: &str, value: &str, size: usize) -> Vec<(String, String)> {
    if encoded_len(value) <= size {
        return vec![(key.to_owned(), value.to_owned())];
    }
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut budget = 0;
    for (i, c) in value.char_indices() {
        let len = encoded_char_len(c);
        if budget + len > size && i > start {
            chunks.push(&value[start..i]);
            start = i;
            budget = 0;
        }
        budget += len;
    }
    if start < value.len() {
        chunks.push(&value[start..]);
    }
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, v)| (format!("{key}.{i}"), v.to_owned()))
        .collect()
}

/// Joins the value of `key` from a cookie list: a non-empty `key` wins; otherwise
/// `key.0`, `key.1`, ... up to the first missing or empty chunk. The first cookie
/// of a duplicated name is the one read. `None` when nothing is found, when more
/// than `max_chunks` chunks are present, or when the value is longer than
/// `max_chunks` full chunks (`max_chunks × MAX_CHUNK_SIZE` bytes): an oversized session
/// is treated as absent, and nothing is copied or decoded past that size.
///
/// A value in one cookie is borrowed, not copied.
pub fn combine_chunks<'a, I>(key: &str, cookies: I, max_chunks: usize) -> Option<Cow<'a, str>>
where
    I: IntoIterator<Item = (&'a str, &'a str)> + Clone,
{
    // Every chunk was at most MAX_CHUNK_SIZE long once URI-encoded, and decoding only
    // shortens it, so no value written by us or by @supabase/ssr is longer than this.
    let max_len = max_chunks.saturating_mul(MAX_CHUNK_SIZE);
    let find = |name: &str| {
        cookies
            .clone()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    };
    if let Some(v) = find(key).filter(|v| !v.is_empty()) {
        return (v.len() <= max_len).then_some(Cow::Borrowed(v));
    }
    // One pass collects the chunk-like cookies by index, so the work stays linear in
    // the number of cookies whatever indices an attacker sends.
    let mut parts: Vec<Option<&str>> = vec![None; max_chunks + 1];
    for (name, value) in cookies {
        let Some(rest) = name.strip_prefix(key).and_then(|r| r.strip_prefix('.')) else {
            continue;
        };
        if !is_chunk_index(rest) || rest.len() > 3 {
            continue;
        }
        let Ok(index) = rest.parse::<usize>() else {
            continue;
        };
        if let Some(slot) = parts.get_mut(index) {
            slot.get_or_insert(value);
        }
    }
    let present = parts
        .iter()
        .take_while(|p| p.is_some_and(|v| !v.is_empty()))
        .count();
    if present == 0 || present > max_chunks {
        return None;
    }
    let parts = &parts[..present];
    let len = parts.iter().flatten().map(|v| v.len()).sum::<usize>();
    if len > max_len {
        return None;
    }
    Some(match parts {
        [Some(one)] => Cow::Borrowed(*one),
        _ => Cow::Owned(parts.iter().flatten().copied().collect()),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn chunk_like_names() {
        assert!(is_chunk_like("sb-x-auth-token", "sb-x-auth-token"));
        assert!(is_chunk_like("sb-x-auth-token.0", "sb-x-auth-token"));
        assert!(is_chunk_like("sb-x-auth-token.12", "sb-x-auth-token"));
        assert!(!is_chunk_like("sb-x-auth-token.01", "sb-x-auth-token"));
        assert!(!is_chunk_like("sb-x-auth-token.", "sb-x-auth-token"));
        assert!(!is_chunk_like(
            "sb-x-auth-token-code-verifier",
            "sb-x-auth-token"
        ));
        assert!(!is_chunk_like("sb-x-auth-token.0.1", "sb-x-auth-token"));
        assert!(is_chunk_like("a.b.3", "a.b"));
    }

    #[test]
    fn chunk_boundaries_match_js() {
        let k = "K";
        let exact = "a".repeat(3180);
        assert_eq!(create_chunks(k, &exact), vec![(k.into(), exact.clone())]);
        let over = "a".repeat(3181);
        let c = create_chunks(k, &over);
        assert_eq!(c.len(), 2);
        assert_eq!((c[0].0.as_str(), c[0].1.len()), ("K.0", 3180));
        assert_eq!((c[1].0.as_str(), c[1].1.len()), ("K.1", 1));
        let long = "b".repeat(7458);
        let lens: Vec<usize> = create_chunks(k, &long).iter().map(|c| c.1.len()).collect();
        assert_eq!(lens, vec![3180, 3180, 1098]);
        // 'é' encodes to 6 characters: 530 of them fill a chunk exactly.
        let accents = "é".repeat(2000);
        let counts: Vec<usize> = create_chunks(k, &accents)
            .iter()
            .map(|c| c.1.chars().count())
            .collect();
        assert_eq!(counts, vec![530, 530, 530, 410]);
    }

    #[test]
    fn combine_rules() {
        let jar = [("K.0", "a"), ("K.1", "b"), ("K.3", "d")];
        assert_eq!(combine_chunks("K", jar, 5).as_deref(), Some("ab"));
        let jar = [("K", "whole"), ("K.0", "a")];
        assert_eq!(combine_chunks("K", jar, 5).as_deref(), Some("whole"));
        let jar = [("K", ""), ("K.0", "a")];
        assert_eq!(combine_chunks("K", jar, 5).as_deref(), Some("a"));
        let jar = [("K.0", "first"), ("K.0", "second")];
        assert_eq!(combine_chunks("K", jar, 5).as_deref(), Some("first"));
        let jar = [("K.0", ""), ("K.1", "b")];
        assert_eq!(combine_chunks("K", jar, 5), None);
        let jar = [("K.00", "a"), ("K.1", "b")];
        assert_eq!(combine_chunks("K", jar, 5), None);
        let six: Vec<(String, String)> = (0..6).map(|i| (format!("K.{i}"), "x".into())).collect();
        let six_ref = six.iter().map(|(a, b)| (a.as_str(), b.as_str()));
        assert_eq!(combine_chunks("K", six_ref.clone(), 5), None);
        assert_eq!(combine_chunks("K", six_ref, 6).as_deref(), Some("xxxxxx"));
    }

    #[test]
    fn values_longer_than_the_cap_are_absent() {
        let cap = 2 * MAX_CHUNK_SIZE;
        let fits = "a".repeat(cap);
        let over = "a".repeat(cap + 1);
        assert_eq!(
            combine_chunks("K", [("K", fits.as_str())], 2).map(|v| v.len()),
            Some(cap)
        );
        assert_eq!(combine_chunks("K", [("K", over.as_str())], 2), None);
        let (first, rest) = over.split_at(MAX_CHUNK_SIZE);
        assert_eq!(
            combine_chunks("K", [("K.0", first), ("K.1", rest)], 2),
            None
        );
        let (first, rest) = fits.split_at(MAX_CHUNK_SIZE);
        assert_eq!(
            combine_chunks("K", [("K.0", first), ("K.1", rest)], 2).map(|v| v.len()),
            Some(cap)
        );
    }
}
