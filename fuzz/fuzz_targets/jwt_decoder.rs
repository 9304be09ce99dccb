//! The JWT decoder and verifier: any string is verified as an access token.
//!
//! Checked on every input: no panic, and no acceptance. No key can verify anything
//! here: the JWKS and `GET /user` live at 127.0.0.1:9 (the discard port) with zero
//! timeouts, so every token that gets past decoding and the claim checks must still
//! be refused. The payload parser is also run on the raw bytes.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use supabase_ssr::cookies::CookieJar;
use supabase_ssr::{Claims, SupabaseAuth};

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
            // One JWKS attempt for the whole run.
            .jwks_refetch_cooldown(Duration::from_secs(365 * 24 * 3600))
            .build()
            .expect("a client"),
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = Claims::from_payload_json(data);
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let harness = harness();
    let client = harness.auth.server_client(CookieJar::default());
    let result = harness.runtime.block_on(client.verify_token(token));
    assert!(result.is_err(), "accepted a token no key could verify");
});
