//! Server-side Supabase Auth for Rust.
#![forbid(unsafe_code)]

pub mod clock;
pub mod cookies;
pub mod jwt;
pub mod session;

mod api;
mod error;

pub use error::AuthError;
