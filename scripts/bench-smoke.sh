#!/usr/bin/env bash
# Compiles every benchmark and runs each once with a tiny budget, so none of them can
# rot: the criterion benches of crates/supabase-ssr (one iteration each) and the bench
# crate's benchmarks in --quick mode (a few seconds each; rls starts a throwaway PostgreSQL,
# as the postgres crate's tests do). Quick runs draw their charts into target/bench-charts,
# never over the committed ones in docs/charts.
# The figures this prints are not measurements; BENCHMARKS.md says how to measure.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "wrk, the load generator (Debian package)"
if ! command -v wrk >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq wrk
fi
wrk --version 2>&1 | head -n 1 || true

step "Official JS packages for the JS server (pinned in interop/js/package-lock.json)"
if [ ! -d interop/js/node_modules/@supabase/ssr ]; then
  (cd interop/js && npm ci --no-audit --no-fund --loglevel=error)
fi

step "Criterion benches, each run once"
cargo bench -p supabase-ssr --locked -- --test

step "Load (cookie and bearer), refresh-storm, memory and RLS benchmarks, quick mode"
cargo run --release --locked -p bench -- all --quick
cargo run --release --locked -p bench -- memory --sessions --quick
cargo run --release --locked -p bench -- memory --http --quick

step "Many users (1 and 1,000), every core, cold tokens, quick mode (charts into target/bench-charts)"
cargo run --release --locked -p bench -- users --quick
cargo run --release --locked -p bench -- api --threads 2 --quick
cargo run --release --locked -p bench -- cold --quick
