//! API routes: auth modes (bearer token, API keys, cookie session, none) and JSON errors.

mod error;
mod extract;
mod middleware;

pub use error::ApiError;
pub use extract::{ApiCaller, ApiUser};
pub use middleware::{ApiAuth, ApiAuthMiddleware};
