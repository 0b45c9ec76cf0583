# Sourced by bench.sh, soak.sh and bench/instructions.sh: starts the release server on the
# development provider at 127.0.0.1:$port with request logging at warn (so load measures the auth
# path, not log output), waits for /health, signs a persona in and gets an API token (COOKIE,
# TOKEN, DASHBOARD_BYTES), and stops the server when the calling script exits. Needs: root, port.
# Optional: server_prefix, an array naming a command to run the server under (valgrind); the server
# then first starts once on its own, so the development provider makes its keys at native speed;
# need_baselines=1, to stop unless the binary serves the benchmark's baselines (BARE_BASE).
binary="$root/target/release/leptos-scalekit"
BENCH_PAGE_PATH=/_bench/page
[ -x "$binary" ] || { echo "no release binary: build first (scripts/build.sh --release)" >&2; exit 1; }
# Release front ends ship brotli copies; the test command's development build leaves none, and its
# pages list other chunks, so measuring with it would measure other pages.
[ -f "$root/target/site/pkg/leptos-scalekit.wasm.br" ] || {
  echo "target/site holds a development front end (scripts/test.sh builds one): build the release" \
    "one first (scripts/build.sh --release, or bench.sh without --no-build)" >&2
  exit 1
}
base="http://127.0.0.1:$port"
# The bare baselines' listener (a bench-baselines build, src/web/bench_baselines.rs).
bare_base="http://127.0.0.1:$((port + 10))"
scratch="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -f "$root/target/site/bench-static.html" "$root/target/site/bench-page.html"
  rm -rf "$scratch"
}
trap cleanup EXIT
start_server() {
  LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT="$root/target/site" LEPTOS_SITE_PKG_DIR=pkg \
    DEV_STATE_DIR="$scratch/state" RUST_LOG=warn BENCH_BARE_ADDR="127.0.0.1:$((port + 10))" \
    "$@" "$binary" serve >>"$scratch/server.log" 2>&1 &
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
export COOKIE TOKEN BARE_BASE="$bare_base"
[ -z "${need_baselines:-}" ] || curl -fsS "$bare_base$BENCH_PAGE_PATH" -o /dev/null 2>/dev/null || {
  echo "the release server has no benchmark baselines at $bare_base: build it with" \
    "scripts/build.sh --release --bench-baselines (bench.sh without --no-build does)" >&2
  exit 1
}
