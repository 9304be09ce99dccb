//! Sessions of chosen sizes and flavours of text, and the crate-side reads and writes
//! of them, for comparing cookie values with the JS packages.

use serde_json::{Value, json};
use supabase_ssr::adapter::codec::{
    MAX_CHUNK_SIZE, combine_chunks, decode_value, encode_uri_component, plan_writes,
};
use supabase_ssr::cookies::{Cookie, CookieConfig, CookieEncoding};
use supabase_ssr::session::UnverifiedSession;

use super::{
    NOW, STORAGE_KEY as K, apply_plan, object, session_body, user_json, without_expires_at,
};

/// Text that metadata of each flavour is made of. Only "cjk-ext-b" holds code points
/// from U+20000 up, which @supabase/ssr's base64url encoder gets wrong.
pub(crate) fn flavour_unit(flavour: &str) -> &'static str {
    match flavour {
        "ascii" => "Lorem ipsum, \"quoted\" \\ back/slash <b>&amp;</b> 100% {x:[1]} ",
        "latin" => "Crème brûlée, naïve façade; 日本語のテキスト, Ωμέγα ß ",
        "emoji" => "😀👩‍👩‍👧🇫🇷🧑🏽‍🚀 ",
        "control" => "\u{0}\u{1}\u{8}\t\n\u{c}\r\u{1b}\u{1f}\u{7f}\u{2028}\u{2029}x",
        "letters" => "a",
        "cjk-ext-b" => "𠮷野家 𩸽 \u{10ffff} ",
        _ => "Mixé 😀\u{1}\"\\/ 日本 ",
    }
}

/// The flavours every size is tried with.
pub(crate) const FLAVOURS: [&str; 5] = ["ascii", "latin", "emoji", "control", "mixed"];

/// `user_metadata` with `n` characters of `flavour` plus numbers JS formats its own way
/// and non-ASCII keys.
pub(crate) fn metadata(flavour: &str, n: usize) -> Value {
    let bio: String = flavour_unit(flavour).chars().cycle().take(n).collect();
    json!({
        "full_name": "Zoë Ünïcødé 😀",
        "bio": bio,
        "numbers": [1, 1.5, 0.1, 0.30000000000000004, 1e21, 1e-7, -0.0, 12_345_678_901_234_567_890_u64, -42],
        "nested": { "clé": "valeur", "😀": true, "empty": "", "none": null, "list": [[], {}] },
    })
}

/// The response body text of a session whose user metadata holds `n` characters of
/// `flavour`; `expires_at` left out when `drop_expires_at`.
pub(crate) fn body_text(flavour: &str, n: usize, drop_expires_at: bool, tag: &str) -> String {
    let user = user_json(
        "9a7f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
        "zoë@example.com",
        metadata(flavour, n),
    );
    let body = session_body(user, NOW, tag);
    let body = if drop_expires_at {
        without_expires_at(body)
    } else {
        body
    };
    serde_json::to_string(&body).unwrap()
}

/// The default cookie configuration with this encoding.
pub(crate) fn config(encoding: CookieEncoding) -> CookieConfig {
    let mut c = CookieConfig::default();
    c.encoding = encoding;
    c
}

/// The `cookieEncoding` option naming this encoding.
pub(crate) fn encoding_name(encoding: CookieEncoding) -> &'static str {
    match encoding {
        CookieEncoding::Raw => "raw",
        _ => "base64url",
    }
}

/// What Rust stores for a response body.
pub(crate) fn stored(body: &str) -> String {
    UnverifiedSession::from_auth_response(object(body), NOW)
        .expect("a session")
        .as_json()
        .to_owned()
}

/// `encodeURIComponent` length of the cookie value of a body: what chunking measures.
pub(crate) fn cookie_len(body: &str, encoding: CookieEncoding) -> usize {
    encode_uri_component(&config(encoding).encode_value(&stored(body))).len()
}

/// The smallest filler length whose cookie value measures at least `target`.
pub(crate) fn filler_for(
    flavour: &str,
    encoding: CookieEncoding,
    drop: bool,
    target: usize,
    tag: &str,
) -> usize {
    let (mut lo, mut hi) = (0, 40_000);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if cookie_len(&body_text(flavour, mid, drop, tag), encoding) >= target {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// A body whose session takes `chunks` cookies (1 = a single unchunked cookie).
pub(crate) fn body_for_chunks(
    flavour: &str,
    encoding: CookieEncoding,
    drop: bool,
    chunks: usize,
    tag: &str,
) -> String {
    let target = (chunks * MAX_CHUNK_SIZE).saturating_sub(MAX_CHUNK_SIZE / 2);
    body_text(
        flavour,
        filler_for(flavour, encoding, drop, target, tag),
        drop,
        tag,
    )
}

/// How many cookies a value of this `encodeURIComponent` length takes.
pub(crate) fn chunk_count(len: usize) -> usize {
    if len <= MAX_CHUNK_SIZE {
        1
    } else {
        len.div_ceil(MAX_CHUNK_SIZE)
    }
}

/// A jar as (name, value) pairs.
pub(crate) fn pairs(jar: &[Cookie]) -> Vec<(&str, &str)> {
    jar.iter()
        .map(|c| (c.name.as_str(), c.value.as_str()))
        .collect()
}

/// Reads the stored session value out of a jar with the crate's functions.
pub(crate) fn rust_read(jar: &[Cookie]) -> Option<String> {
    let combined = combine_chunks(K, pairs(jar), 5)?;
    decode_value(&combined)
}

/// The `Cookie` header a browser sends back after receiving these `Set-Cookie` headers.
pub(crate) fn echo_cookie_header(set_cookie_headers: &[String]) -> String {
    set_cookie_headers
        .iter()
        .map(|h| h.split(';').next().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The jar Rust writes for `json` on an empty jar.
pub(crate) fn jar_for(json: &str, cfg: &CookieConfig) -> Vec<Cookie> {
    let mut jar = Vec::new();
    apply_plan(&mut jar, &plan_writes(&[], &[(K, json)], &[], cfg));
    jar
}
