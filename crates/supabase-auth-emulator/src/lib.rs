#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod apikeys;
mod clock;
mod config;
mod emulator;
mod error;
mod fault;
mod keys;
mod mailer;
mod mfa;
mod oidc;
mod password;
mod phone;
mod pkce;
mod redirect;
mod routes;
mod session;
mod settings;
mod state;
mod store;
mod util;

pub use config::{EmulatorConfig, SigningAlg};
pub use emulator::{Email, Emulator, RecordedRequest};
pub use error::{EmulatorError, ErrorKind};
pub use fault::{
    FAULT_HEADER, FAULT_LIFETIME, FaultCounts, FaultSettings, Faults, MAX_CLOCK_OFFSET,
    MAX_FAIL_COUNT, MAX_LATENCY,
};
