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
source scripts/bench/serve_release.sh

# Counts `requests` GETs of `path` on one keep-alive connection (after 20 uncounted ones) and
# prints the callgrind part file that holds them.
count() {
  local path="$1"; shift
  local urls=()
  for _ in $(seq "$requests"); do urls+=("$base$path"); done
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
while IFS='|' read -r name path header; do
  if [ -n "$header" ]; then part=$(count "$path" -H "$header"); else part=$(count "$path"); fi
  per=$(( $(total "$part") / requests ))
  [ "$path" = /dashboard ] && dashboard_part=$part
  printf '| %s | %s |\n' "$name" "$per"
done <<EOF
static page|/bench-static.html|
SSR /dashboard|/dashboard|Cookie: $COOKIE
SSR /sessions|/sessions|Cookie: $COOKIE
JSON hello|/health|
bearer GET /api/v1/deployments|/api/v1/deployments|Authorization: Bearer $TOKEN
EOF

echo
echo "Where a dashboard request's instructions go (self cost, top 15; SHA-256 is counted without"
echo "the SHA extensions valgrind does not emulate, so it weighs more here than on the CPU):"
callgrind_annotate "$dashboard_part" 2>/dev/null \
  | sed -n '/file:function/,$p' | sed -n '3,17p' \
  | sed -E 's/ \[[^]]*\]$//; s/\?\?\?://; s/\.\/[^:]*://' | cut -c1-150
