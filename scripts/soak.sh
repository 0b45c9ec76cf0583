#!/usr/bin/env bash
# A bounded soak test on loopback (not part of the test command): the release server on its
# development provider, signed-in pages and the bearer API under load together for SOAK_DURATION
# seconds (default 300), then a verdict: zero failed requests and flat memory.
# Usage: scripts/soak.sh [--no-build]    SOAK_DURATION, SOAK_CONNECTIONS (64), SOAK_PORT (3298)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
source scripts/env.sh

[ "${1:-}" = "--no-build" ] || scripts/build.sh --release
command -v wrk >/dev/null || scripts/bench.sh --install-wrk
port="${SOAK_PORT:-3298}"
source scripts/bench/serve_release.sh
python3 scripts/bench/soak.py "$base" "$server_pid"
