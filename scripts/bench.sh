#!/usr/bin/env bash
# Benchmarks, in one run on this machine (not part of the test command):
#   1. release build (bundle sizes: raw and gzip, first load and total, against the budget);
#   2. the app on its development provider at 127.0.0.1, a persona signed in, an API token;
#   3. wrk against authenticated SSR pages, the bearer API, and two baselines served by the same
#      process (a static HTML page as large as the dashboard, a JSON hello): req/s, p50/p99, RSS,
#      and each target's ratio to its baseline; then oha on the same 64 connections at a steady
#      1,000 req/s for every target (the p99 verdict), and at half of each target's saturated
#      rate. All in rounds, round-robin over the targets, verdicts on the median round
#      (scripts/bench/load.py says why);
#   4. the sign-in round trip in Chromium (end2end/bench/round-trip.mjs): persona picked at the
#      development provider -> dashboard painted and interactive, against a plain navigation to
#      the same bytes from memory;
#   5. instructions per request under callgrind (scripts/bench/instructions.sh): repeatable counts
#      of where the server's own time goes, whatever the machine's noise;
#   6. criterion micro-benchmarks of the per-request auth path.
# Usage: scripts/bench.sh [--no-build] [--no-micro] [--no-instructions]
#   BENCH_ROUNDS (3), BENCH_DURATION (6s per target and round), BENCH_CONNECTIONS (64),
#   BENCH_THREADS (2), BENCH_PORT (3299)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
source scripts/env.sh

build=1
micro=1
instructions=1
install_only=0
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    --no-micro) micro=0 ;;
    --no-instructions) instructions=0 ;;
    --install-wrk) install_only=1 ;;
    *) echo "usage: $0 [--no-build] [--no-micro] [--no-instructions] [--install-wrk]" >&2; exit 2 ;;
  esac
done

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

# A Debian package, refreshing the package lists once if the first try fails.
apt_install() {
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "$1" >/dev/null \
    || { $sudo apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "$1" >/dev/null; }
}

if ! command -v wrk >/dev/null; then
  step "installing wrk (Debian)"
  apt_install wrk
fi

[ "$install_only" = 1 ] && exit 0

if ! command -v oha >/dev/null; then
  # Open-loop load at a fixed rate, for latency at a sustainable load (crates.io, built once).
  step "installing oha 1.16.0 (crates.io)"
  cargo install oha --version 1.16.0 --locked
fi

if [ "$build" = 1 ]; then
  step "release build"
  scripts/build.sh --release --bench-baselines
fi
step "browser bundle (release, wasm-opt)"
python3 scripts/bench/bundle.py target/site/pkg

port="${BENCH_PORT:-3299}"
step "release server on 127.0.0.1:$port (development provider), a persona signed in, an API token"
need_baselines=1
source scripts/bench/serve_release.sh
echo "dashboard: $DASHBOARD_BYTES bytes; static baseline written at the same size"

step "a second release server on 127.0.0.1:$((port + 1)) with its sessions in Redis"
command -v redis-server >/dev/null || apt_install redis-server
redis_port=$((port + 2))
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no >/dev/null 2>&1 &
redis_pid=$!
redis_base="http://127.0.0.1:$((port + 1))"
redis_scratch="$(mktemp -d)"
LEPTOS_SITE_ADDR="127.0.0.1:$((port + 1))" LEPTOS_SITE_ROOT="$root/target/site" LEPTOS_SITE_PKG_DIR=pkg \
  DEV_STATE_DIR="$redis_scratch/state" RUST_LOG=warn REDIS_URL="redis://127.0.0.1:$redis_port/0" \
  "$root/target/release/leptos-scalekit" serve >>"$redis_scratch/server.log" 2>&1 &
redis_server_pid=$!
trap 'kill "$redis_server_pid" "$redis_pid" 2>/dev/null || true; rm -rf "$redis_scratch"; cleanup' EXIT
for _ in $(seq 1 600); do curl -fsS "$redis_base/health" >/dev/null 2>&1 && break; sleep 0.1; done
eval "$(python3 scripts/bench/prepare.py "$redis_base" "$redis_scratch" | sed -n 's/^COOKIE=/REDIS_COOKIE=/p')"
export REDIS_BASE="$redis_base" REDIS_COOKIE

step "load (wrk, then oha at a steady rate)"
BENCH_JSON="$root/target/bench-results.json" python3 scripts/bench/load.py "$base" "$server_pid"

step "sign-in round trip in a browser (Chromium through Playwright, fresh contexts)"
scripts/bootstrap.sh browser
scripts/bootstrap.sh node
BENCH_ROUND_TRIP_JSON="$root/target/bench-round-trip.json" node end2end/bench/round-trip.mjs "$base"

if [ "$instructions" = 1 ]; then
  step "instructions per request (callgrind; the release server again, on its own port)"
  command -v valgrind >/dev/null || apt_install valgrind
  scripts/bench/instructions.sh
fi

if [ "$micro" = 1 ]; then
  step "micro-benchmarks (criterion): the per-request auth path"
  unset RUSTFLAGS
  cargo bench --features ssr --bench auth_path -- --warm-up-time 1 --measurement-time 3 2>&1 \
    | grep -E -B1 '^\s+time:' | grep -v '^--$'
fi
