//! Local JWT verification with real keys (aws-lc-rs), an in-memory JWKS source that counts
//! its calls, and a manual clock.
#![allow(clippy::unwrap_used)]

mod cache;
mod decode;
mod fuzz;
mod jwk;
mod support;
mod verify;
