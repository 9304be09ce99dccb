#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod adapter;
pub mod api_auth;
pub mod clock;
pub mod cookies;
pub mod jwt;
pub mod mfa;
pub mod session;

mod api;
mod bounded;
mod client;
mod config;
mod data_api;
mod error;
mod outage;
mod pkce;
mod refresh;
mod storage;

pub use api::{Identifier, SignOutScope};
pub use client::{
    OAuthStart, OtpOptions, ServerClient, SignUpOptions, SignUpOutcome, SupabaseAuth,
    SupabaseAuthBuilder, VerifyOtp,
};
pub use error::{AuthError, AuthErrorKind};
pub use jwt::{Claims, VerifiedClaims};
pub use session::{UnverifiedSession, User};
