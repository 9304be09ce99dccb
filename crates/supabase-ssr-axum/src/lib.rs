#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod api;
mod extract;
mod layer;
mod matcher;
mod outcome;
mod service;

pub use api::{ApiAuthLayer, ApiAuthService, ApiCaller, ApiError, ApiUser};
pub use extract::{
    Aal2Rejection, MaybeVerified, MissingLayer, Supabase, Verified, VerifiedAal2, VerifiedRejection,
};
pub use layer::SupabaseLayer;
pub use matcher::is_static_asset;
pub use outcome::AuthOutcome;
pub use service::{ResponseFuture, SupabaseService};

/// The core crate, re-exported so the types the layer hands out (`Claims`,
/// `ServerClient`, `AuthError`) are always the ones it was built with.
pub use supabase_ssr;
