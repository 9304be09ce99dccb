//! The cookie reader: any `Cookie` header is parsed, the session's chunks combined and
//! decoded, and the result read by a server client.
//!
//! Checked on every input: no panic; no duplicated name survives parsing; a combined
//! session is never longer than the size cap; only session cookies are ever written or
//! deleted. Nothing is sent anywhere: the retry budget is zero, so the refresh of an
//! expired session gives up before its first request.
#![no_main]

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use supabase_ssr::SupabaseAuth;
use supabase_ssr::adapter::codec::{
    MAX_CHUNK_SIZE, combine_chunks, decode_value, parse_cookie_header,
};
use supabase_ssr::cookies::CookieJar;

const KEY: &str = "sb-127-auth-token";
const MAX_CHUNKS: usize = 5;

struct Harness {
    runtime: tokio::runtime::Runtime,
    auth: SupabaseAuth,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| Harness {
        runtime: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime"),
        auth: SupabaseAuth::builder("http://127.0.0.1:9", "sb_publishable_fuzz")
            .retry_budget(Duration::ZERO)
            .request_timeout(Duration::ZERO)
            .max_cookie_chunks(MAX_CHUNKS)
            .build()
            .expect("a client"),
    })
}

fuzz_target!(|data: &[u8]| {
    let header = String::from_utf8_lossy(data);
    let cookies = parse_cookie_header(&header);
    let mut names = HashSet::new();
    for cookie in &cookies {
        assert!(
            names.insert(cookie.name.as_str()),
            "a duplicated name was kept"
        );
    }
    let pairs = cookies.iter().map(|c| (c.name.as_str(), c.value.as_str()));
    if let Some(combined) = combine_chunks(KEY, pairs, MAX_CHUNKS) {
        assert!(combined.len() <= MAX_CHUNKS * MAX_CHUNK_SIZE);
        if let Some(decoded) = decode_value(&combined) {
            assert!(decoded.len() <= combined.len());
        }
    }

    let harness = harness();
    let jar = Arc::new(CookieJar::new(cookies));
    let client = harness.auth.server_client(jar.clone());
    let _ = harness.runtime.block_on(client.get_session());
    for call in jar.set_all_calls() {
        for cookie in &call.cookies {
            assert!(cookie.name.starts_with(KEY), "wrote {:?}", cookie.name);
        }
    }
});
