//! The Rust blocks of `docs/dioxus-and-loco.md`, one module each (see build.rs).
// The examples define handlers nothing here calls; any other warning is an error.
#![deny(warnings)]
#![allow(dead_code)]

include!(concat!(env!("OUT_DIR"), "/snippets.rs"));
