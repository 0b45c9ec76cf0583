#!/usr/bin/env bash
# README command 2: every check and test, as CI runs them.
#   format, clippy (server and browser), cargo tests, then a development build served on a private
#   port, the Playwright suite in headless Chromium (JavaScript on and off) with Scalekit's Node SDK,
#   and Scalekit's Python SDK, both against the built-in development identity provider; last, the
#   reverse-proxy deployment for real (scripts/deploy_check.sh: nginx, TLS, APP_ENV=production).
# The browser tests run the server in a scratch directory: no .env is read, state starts empty,
# and sign-in uses the built-in development identity provider.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

started=$(date +%s)
# Each step also prints the disk space left: a CI machine once ran out of it mid-build.
step() {
  printf '\n\033[1m==> %s\033[0m (%ss, %s free)\n' "$1" "$(($(date +%s) - started))" \
    "$(df -h --output=avail . | tail -n 1 | tr -d ' ')"
}

step "bootstrap"
scripts/bootstrap.sh all
source scripts/env.sh

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (server and crates, all targets)"
# With the benchmark's baselines too (a superset of the server's code), so they are checked.
cargo clippy --workspace --features ssr,leptos-scalekit/bench-baselines --all-targets -- -D warnings

step "cargo clippy (browser bundle)"
# No default features: the default `dev-idp` is server-only.
cargo clippy --lib --no-default-features --features hydrate --target wasm32-unknown-unknown -- -D warnings
# The minimal example's browser bundle (its server is built and signed in through by `cargo test`).
cargo clippy -p minimal --lib --no-default-features --features hydrate --target wasm32-unknown-unknown -- -D warnings

step "cargo test"
cargo test --workspace --features ssr

step "cargo doc (library crates, warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p scalekit-auth -p scalekit-dev-idp -p scalekit-leptos --features scalekit-leptos/ssr

# Before the ordinary build, which then leaves target/debug/leptos-scalekit as the full app.
step "a build without the development provider"
cargo build --no-default-features --features ssr --bin leptos-scalekit
scripts/check-no-dev-idp.sh target/debug/leptos-scalekit

step "build (browser bundle, then server)"
scripts/build.sh

# Checklist L9: nothing server-side reaches the browser bundle, the client secret least of all.
step "no secrets in the browser bundle"
for secret in "dev-only-secret-never-used-with-scalekit" "client_secret" "SCALEKIT_CLIENT_SECRET" "SECRET_KEY"; do
  if grep -rqa -- "$secret" target/site/pkg; then
    echo "error: \`$secret\` appears in target/site/pkg" >&2
    exit 1
  fi
done

step "browser tests"
port="${E2E_PORT:-3197}"
scratch=$(mktemp -d)
log="$root/target/e2e-server.log"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT
(
  cd "$scratch"
  # Every variable of docs/configuration.md but the four set here: the shell's own must not
  # change what the browser tests see.
  env -u SCALEKIT_ENVIRONMENT_URL -u SCALEKIT_ENV_URL -u SCALEKIT_DOMAIN -u SCALEKIT_CLIENT_ID \
    -u SCALEKIT_CLIENT_SECRET -u SCALEKIT_REDIRECT_URI -u SCALEKIT_POST_LOGOUT_REDIRECT_URI \
    -u SCALEKIT_SCOPES -u SCALEKIT_CA_FILE -u SCALEKIT_WEBHOOK_SECRET -u SCALEKIT_RESOURCE_ID \
    -u APP_ENV -u APP_URL -u API_AUDIENCE -u SESSION_IDLE_TIMEOUT_SECS -u SESSION_ABSOLUTE_TIMEOUT_SECS \
    -u SECRET_KEY -u REDIS_URL -u REDIS_KEY_PREFIX -u METRICS_ADDR -u SHUTDOWN_GRACE_SECS \
    -u DEV_IDP_ALLOW_REMOTE -u DEV_IDP_CONFIG -u DEV_IDP_ADDR -u DEV_IDP_ISSUER \
    -u RUST_LOG -u DEBUG -u LOG_FORMAT -u LEPTOS_OUTPUT_NAME \
    LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT="$root/target/site" LEPTOS_SITE_PKG_DIR=pkg \
    DEV_STATE_DIR="$scratch/state" \
    "$root/target/debug/leptos-scalekit" serve
) >"$log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "the server exited during start-up:" >&2; cat "$log" >&2; exit 1
  fi
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/health" >/dev/null || { echo "server did not start:" >&2; cat "$log" >&2; exit 1; }
show_server_log() {
  echo "--- server log (last 50 lines) ---" >&2
  tail -n 50 "$log" >&2
}
if ! (cd end2end && CI=1 BASE_URL="http://127.0.0.1:$port" npx playwright test); then
  show_server_log
  exit 1
fi

step "Scalekit's Python SDK against the development identity provider"
if ! end2end/.venv/bin/python end2end/sdk/python_sdk_check.py "http://127.0.0.1:$port"; then
  show_server_log
  exit 1
fi

step "the official Python MCP SDK against /mcp"
if ! end2end/.venv/bin/python end2end/sdk/python_mcp_check.py "http://127.0.0.1:$port"; then
  show_server_log
  exit 1
fi

step "the reverse-proxy deployment (nginx, TLS, production mode)"
scripts/deploy_check.sh

step "all checks passed"
