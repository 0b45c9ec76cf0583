# Sourced by bench.sh, soak.sh and bench/instructions.sh: starts the release server on the
# development provider at 127.0.0.1:$port with request logging at warn (so load measures the auth
# path, not log output), waits for /health, signs a persona in and gets an API token (COOKIE,
# TOKEN, DASHBOARD_BYTES), and stops the server when the calling script exits. Needs: root, port.
# Optional: server_prefix, an array naming a command to run the server under (valgrind); the server
# then first starts once on its own, so the development provider makes its keys at native speed.
binary="$root/target/release/leptos-scalekit"
[ -x "$binary" ] || { echo "no release binary: build first (scripts/build.sh --release)" >&2; exit 1; }
# Release front ends ship brotli copies; the test command's development build leaves none, and its
# pages list other chunks, so measuring with it would measure other pages.
[ -f "$root/target/site/pkg/leptos-scalekit.wasm.br" ] || {
  echo "target/site holds a development front end (scripts/test.sh builds one): build the release" \
    "one first (scripts/build.sh --release, or bench.sh without --no-build)" >&2
  exit 1
}
base="http://127.0.0.1:$port"
scratch="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -f "$root/target/site/bench-static.html"
  rm -rf "$scratch"
}
trap cleanup EXIT
start_server() {
  LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT="$root/target/site" LEPTOS_SITE_PKG_DIR=pkg \
    DEV_STATE_DIR="$scratch/state" RUST_LOG=warn "$@" "$binary" serve >>"$scratch/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 600); do
    curl -fsS "$base/health" >/dev/null 2>&1 && return
    kill -0 "$server_pid" 2>/dev/null || { cat "$scratch/server.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "the server did not answer $base/health within 60 s" >&2
  exit 1
}
if [ -n "${server_prefix+set}" ]; then
  start_server
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
fi
start_server ${server_prefix[@]+"${server_prefix[@]}"}
eval "$(python3 "$root/scripts/bench/prepare.py" "$base" "$root/target/site")"
export COOKIE TOKEN
