#![doc = include_str!("../../../docs/from-nextjs.md")]
// Snippets define handlers and app builders nothing calls; any other warning is an error.
#![doc(test(attr(deny(warnings), allow(dead_code))))]
#![forbid(unsafe_code)]

/// The root README's Rust examples, compiled as doc tests too.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct Readme;

/// RELIABILITY.md's Rust example, compiled as a doc test too.
#[cfg(doctest)]
#[doc = include_str!("../../../RELIABILITY.md")]
pub struct Reliability;
