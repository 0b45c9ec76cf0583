#!/usr/bin/env bash
# Shows that a build without the `dev-idp` feature has no development identity provider: it
# contains none of the provider's code, refuses to start without a Scalekit environment, has no
# `dev-idp` command, and with an environment configured serves nothing under /dev-idp.
# Usage: scripts/check-no-dev-idp.sh <binary built with --no-default-features --features ssr>
set -euo pipefail
binary=$(realpath "$1")
scratch=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT
fail() { echo "error: $*" >&2; exit 1; }
clean_env=(env -i PATH="$PATH" HOME="$scratch" DEV_STATE_DIR="$scratch/state")

# The provider's session cookie name and its persona page text appear in no other code.
for marker in skdev_session "Choose who signs in"; do
  if grep -qa -- "$marker" "$binary"; then fail "\`$marker\` is in $binary: the provider was built in"; fi
done

if out=$(cd "$scratch" && "${clean_env[@]}" "$binary" serve 2>&1); then
  fail "it started with no Scalekit environment"
fi
grep -q "without the \`dev-idp\` feature" <<<"$out" || fail "the refusal does not say why: $out"

if out=$(cd "$scratch" && "${clean_env[@]}" "$binary" dev-idp 2>&1); then
  fail "the dev-idp command ran"
fi
grep -q "no development identity provider" <<<"$out" || fail "the dev-idp command does not say why: $out"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# A Scalekit environment nobody answers at: the app starts (it meets its provider lazily).
(cd "$scratch" && exec "${clean_env[@]}" LEPTOS_SITE_ADDR="127.0.0.1:$port" \
  SCALEKIT_ENVIRONMENT_URL=http://127.0.0.1:9 SCALEKIT_CLIENT_ID=skc_1 SCALEKIT_CLIENT_SECRET=test_secret \
  "$binary" serve >"$scratch/log" 2>&1) &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$scratch/log" >&2; fail "the server exited"; }
  sleep 0.2
done
for path in /dev-idp/.well-known/openid-configuration /dev-idp/oauth/authorize /dev-idp/_control; do
  status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$path")
  [ "$status" = 404 ] || fail "$path answered $status, not 404"
done
echo "ok  no development provider in a --no-default-features build"
