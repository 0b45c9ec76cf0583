#!/usr/bin/env bash
# Instructions per request, counted by callgrind: the same count for the same binary and inputs
# however busy the machine is, so the effect of a change shows without this shared VM's noise.
# It counts the server's own instructions (all threads) in user space, not the kernel's work
# (reading the static file, writing to sockets), so it says where the app's time goes; it is not
# a throughput ratio. Then the dashboard's most expensive functions, self cost.
# Usage: scripts/bench/instructions.sh [REQUESTS]   (default 100; needs the release build)
# Run by scripts/bench.sh. Loopback only; stops by itself.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
requests="${1:-100}"
port="${BENCH_INSTRUCTIONS_PORT:-3298}"
command -v valgrind >/dev/null || { echo "valgrind is not installed (Debian package valgrind)" >&2; exit 1; }
out="$root/target/callgrind"
rm -rf "$out" && mkdir -p "$out"
server_prefix=(valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/callgrind")
need_baselines=1
source scripts/bench/serve_release.sh

# Counts `requests` GETs of `path` on one keep-alive connection (after 20 uncounted ones) and
# prints the callgrind part file that holds them.
count() {
  local path="$1"; shift
  local urls=()
  local url="$base$path"
  case "$path" in http*) url="$path" ;; esac
  for _ in $(seq "$requests"); do urls+=("$url"); done
  curl -fsS "$@" "${urls[@]:0:20}" >/dev/null
  callgrind_control -i on "$server_pid" >/dev/null 2>&1
  curl -fsS "$@" "${urls[@]}" >/dev/null
  callgrind_control -i off "$server_pid" >/dev/null 2>&1
  callgrind_control -d "$server_pid" >/dev/null 2>&1
  sleep 0.5
  ls -t "$out"/callgrind.* | head -n 1
}

total() { awk '/^totals:/ { t += $2 } END { print t }' "$1"; }

printf '| target | instructions per request (server, user space) |\n|---|---:|\n'
dashboard_part=""
declare -A per_target
while IFS='|' read -r name path header; do
  if [ -n "$header" ]; then part=$(count "$path" -H "$header"); else part=$(count "$path"); fi
  per=$(( $(total "$part") / requests ))
  [ "$path" = /dashboard ] && dashboard_part=$part
  per_target[$name]=$per
  printf '| %s | %s |\n' "$name" "$per"
done <<EOF
in-memory page, bare (the limit)|$BARE_BASE/_bench/page|
in-memory page, app middleware|/_bench/page|
static file, same bytes|/bench-static.html|
minimal Leptos page, bare (the Leptos floor)|$BARE_BASE/_bench/leptos|
SSR /dashboard|/dashboard|Cookie: $COOKIE
SSR /sessions|/sessions|Cookie: $COOKIE
JSON hello, bare|$BARE_BASE/health|
JSON hello behind the edge layer alone (id, log, headers, size and time limits)|$BARE_BASE/_bench/layer/edge|
JSON hello /health, app middleware|/health|
bearer GET /api/v1/deployments|/api/v1/deployments|Authorization: Bearer $TOKEN
EOF

dashboard=${per_target[SSR /dashboard]}
floor=${per_target[minimal Leptos page, bare (the Leptos floor)]}
goal=400000
echo
echo "SSR /dashboard: $dashboard instructions per request, goal ≤ $goal:" \
  "$([ "$dashboard" -le "$goal" ] && echo met || echo NOT met);" \
  "$(awk -v d="$dashboard" -v f="$floor" 'BEGIN { printf "%.1f", d / f }')× the minimal Leptos page ($floor)"
echo
echo "Where a dashboard request's instructions go (self cost, top 15; SHA-256 is counted without"
echo "the SHA extensions valgrind does not emulate, so it weighs more here than on the CPU):"
callgrind_annotate "$dashboard_part" 2>/dev/null \
  | sed -n '/file:function/,$p' | sed -n '3,17p' \
  | sed -E 's/ \[[^]]*\]$//; s/\?\?\?://; s/\.\/[^:]*://' | cut -c1-150
