#!/usr/bin/env bash
# Runs every check and test of the repository, installing what they need first.
# This is the README's test command and what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# One full build from a clean checkout: incremental caches would only take disk space.
export CARGO_INCREMENTAL=0

step "System packages (Chromium for the browser test, wrk for the load benchmark, HAProxy for the load-balancer test)"
bash scripts/install-system-deps.sh

step "Node packages for the interop and browser tests (pinned in interop/js/package-lock.json)"
if ! command -v node >/dev/null 2>&1; then
  echo "node (>= 20) is required for the interop tests" >&2
  exit 1
fi
(cd interop/js && npm ci --no-audit --no-fund --loglevel=error)

step "Formatting"
cargo fmt --all --check

step "Lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "API docs, rustdoc warnings denied (broken links, bad code blocks)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

step "The Dioxus and Loco examples (docs/dioxus-and-loco.md), type-checked against the frameworks"
cargo fmt --check --manifest-path frameworks/Cargo.toml
cargo check --manifest-path frameworks/Cargo.toml --locked --quiet --target-dir target/frameworks

step "Tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
  cargo test --workspace --locked --doc
else
  cargo test --workspace --locked --no-fail-fast
fi

step "The Auth emulator's suite again, on its PostgreSQL store (each emulator a database of a throwaway server)"
if cargo nextest --version >/dev/null 2>&1; then
  EMULATOR_TEST_STORE=postgres cargo nextest run --package supabase-auth-emulator --locked --no-fail-fast
else
  EMULATOR_TEST_STORE=postgres cargo test --package supabase-auth-emulator --locked --no-fail-fast
fi

step "The published crates package and build from their .crate files (cargo package)"
# Cargo verifies each .crate against the others through a registry of its own, and takes
# a registry crate it has seen (same name, same version) as unchanged: what an earlier
# run extracted into CARGO_HOME and built into target/ would be verified instead of
# today's code. Both are removed first (after the tests, which no longer need them).
published=(supabase-ssr supabase-ssr-axum supabase-ssr-actix supabase-ssr-postgres supabase-auth-emulator)
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)"
for crate in "${published[@]}"; do
  rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"$crate-$version"
done
cargo clean --quiet "${published[@]/#/--package=}"
cargo package --locked --allow-dirty --quiet "${published[@]/#/--package=}"

step "Benchmarks, compiled and each run once with a tiny budget (figures: BENCHMARKS.md)"
bash scripts/bench-smoke.sh
