//! Copies every ```rust block of docs/dioxus-and-loco.md into `$OUT_DIR/snippets.rs`, one
//! module per block, so `cargo check` type-checks the page's code as it is written.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/dioxus-and-loco.md");
    println!("cargo::rerun-if-changed={}", page.display());
    let text = std::fs::read_to_string(&page).expect("docs/dioxus-and-loco.md");
    let mut out = String::new();
    let mut block: Option<String> = None;
    let mut count = 0;
    for line in text.lines() {
        match (&mut block, line.trim_start()) {
            (None, "```rust") => block = Some(String::new()),
            (None, fence) if fence.starts_with("```rust") => {
                panic!("docs/dioxus-and-loco.md: every Rust block must be plain ```rust: {fence}")
            }
            (Some(code), "```") => {
                writeln!(out, "pub mod snippet_{count} {{\n{code}}}").expect("write");
                count += 1;
                block = None;
            }
            (Some(code), _) => {
                code.push_str(line);
                code.push('\n');
            }
            (None, _) => {}
        }
    }
    assert!(
        block.is_none(),
        "docs/dioxus-and-loco.md: a Rust block is not closed"
    );
    assert!(
        count >= 2,
        "docs/dioxus-and-loco.md: expected the Dioxus and the Loco examples"
    );
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("snippets.rs");
    std::fs::write(dest, out).expect("write snippets.rs");
}
