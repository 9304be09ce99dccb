//! The `@supabase/ssr` cookie codec as pure functions: chunk names and sizes, the
//! `base64-` value encoding, `Cookie` header parsing, and the write plan.
//!
//! A server client does all of this itself. The functions are here for adapters that
//! handle the session cookies outside a [`ServerClient`](crate::ServerClient) (an edge
//! proxy forwarding them, a framework with its own cookie store, a migration tool), and
//! for tests that look inside the cookies an app wrote: [`decode_value`] of the combined
//! chunks is the session JSON. They follow `@supabase/ssr` 0.12.7 byte for byte, which
//! `crates/supabase-ssr/tests/interop_cookies.rs` checks against the pinned package.
//!
//! ```
//! use supabase_ssr::adapter::codec::{combine_chunks, decode_value, parse_cookie_header};
//!
//! let cookies = parse_cookie_header("theme=dark; sb-abc-auth-token=base64-eyJhIjoxfQ");
//! let pairs = cookies.iter().map(|c| (c.name.as_str(), c.value.as_str()));
//! let combined = combine_chunks("sb-abc-auth-token", pairs, 5).unwrap();
//! assert_eq!(decode_value(&combined).as_deref(), Some(r#"{"a":1}"#));
//! ```

pub use crate::cookies::chunk::{MAX_CHUNK_SIZE, combine_chunks, create_chunks, is_chunk_like};
pub use crate::cookies::encode::{
    BASE64_PREFIX, DecodeError, decode_base64url, decode_value, encode_uri_component,
    to_base64_value,
};
pub use crate::cookies::header::{
    cookie_header_value, parse_cookie_fields, parse_cookie_header, parse_cookie_headers,
};
pub use crate::cookies::plan::plan_writes;
