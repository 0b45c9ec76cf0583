#!/usr/bin/env bash
# README command 1: installs what is missing, builds, and serves the app.
#   scripts/run.sh             development build on http://127.0.0.1:3000 (LEPTOS_SITE_ADDR to change)
#   scripts/run.sh --release   optimised build
# With no Scalekit environment configured (.env or environment), sign-in uses the built-in
# development identity provider.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh rust
profile=debug
if [ "${1:-}" = "--release" ]; then
  profile=release
  scripts/bootstrap.sh node
fi
scripts/build.sh "$@"

export LEPTOS_OUTPUT_NAME=leptos-scalekit
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}"
export LEPTOS_SITE_PKG_DIR="${LEPTOS_SITE_PKG_DIR:-pkg}"
exec "target/$profile/leptos-scalekit" serve
