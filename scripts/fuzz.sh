#!/usr/bin/env bash
# Runs the property-based fuzz targets in tests/suite/fuzz.rs for longer than the test command does:
# cookie decoding, return paths, callback parameters, JWT parsing. Bounded: FUZZ_CASES per target
# (default 20000, the callback target a fifth of that) and at most FUZZ_SECONDS (default 600).
# A failure prints the input; add it to fuzz/corpus/<target>.txt so every test run replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
cases="${FUZZ_CASES:-20000}"
seconds="${FUZZ_SECONDS:-600}"
echo "fuzzing: $cases cases per target, at most $seconds s"
PROPTEST_CASES="$cases" timeout "$seconds" cargo test --features ssr --test suite fuzz:: -- --test-threads 2
