//! Checks that the committed browser bundle is there. It is embedded with `include_str!`;
//! a checkout without it still builds, and the demo then says how to get it back instead
//! of failing to compile on a file a Rust developer never edits.

use std::path::Path;

const BUNDLE: &str = "static/supabase-browser.js";

fn main() {
    println!("cargo::rerun-if-changed={BUNDLE}");
    println!("cargo::rustc-check-cfg=cfg(browser_bundle_missing)");
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default();
    if !Path::new(&manifest_dir).join(BUNDLE).is_file() {
        println!("cargo::rustc-cfg=browser_bundle_missing");
        println!(
            "cargo::warning=examples/demo/{BUNDLE} is missing: /browser-client will not work \
             (restore it with git, or rebuild it: cd interop/js && npm ci && npm run build:browser)"
        );
    }
}
