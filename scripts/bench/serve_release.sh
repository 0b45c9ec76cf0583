# Sourced by bench.sh and soak.sh: starts the release server on the development provider at
# 127.0.0.1:$port with request logging at warn (so load measures the auth path, not log output),
# waits for /health, signs a persona in and gets an API token (COOKIE, TOKEN, DASHBOARD_BYTES),
# and stops the server when the calling script exits. Needs: root, port.
binary="$root/target/release/leptos-scalekit"
[ -x "$binary" ] || { echo "no release binary: build first (scripts/build.sh --release)" >&2; exit 1; }
base="http://127.0.0.1:$port"
scratch="$(mktemp -d)"
cleanup() {
  [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null || true
  rm -f "$root/target/site/bench-static.html"
  rm -rf "$scratch"
}
trap cleanup EXIT
LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT="$root/target/site" LEPTOS_SITE_PKG_DIR=pkg \
  DEV_STATE_DIR="$scratch/state" RUST_LOG=warn "$binary" serve >"$scratch/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "$base/health" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$scratch/server.log" >&2; exit 1; }
  sleep 0.1
done
eval "$(python3 "$root/scripts/bench/prepare.py" "$base" "$root/target/site")"
export COOKIE TOKEN
