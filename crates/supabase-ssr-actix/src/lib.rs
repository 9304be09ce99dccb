#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod api;
mod extract;
mod middleware;
mod outcome;

pub use api::{ApiAuth, ApiAuthMiddleware, ApiCaller, ApiError, ApiUser};
pub use extract::{
    Aal2Rejection, MaybeVerified, MissingLayer, Supabase, Verified, VerifiedAal2, VerifiedRejection,
};
pub use middleware::{SupabaseMiddleware, SupabaseMiddlewareService, is_static_asset};
pub use outcome::AuthOutcome;

/// The core crate, re-exported so the types the middleware hands out (`Claims`,
/// `ServerClient`, `AuthError`) are always the ones it was built with.
pub use supabase_ssr;
