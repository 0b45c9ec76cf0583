#!/usr/bin/env bash
# Installs every tool the project needs to build and test, on a machine that reaches only the package
# registries (crates.io, npm, apt). Idempotent: each step checks first and skips what is present.
# Usage: scripts/bootstrap.sh [all|rust|browser|redis|node|python]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.11
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
export PATH="$CARGO_BIN:$PATH"

log() { printf '\033[1mbootstrap:\033[0m %s\n' "$*"; }

ensure_wasm_target() {
  if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "wasm32-unknown-unknown target present"
  else
    log "adding wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

# `cargo leptos new` is the only user of cargo-generate, whose ~120 crates of its own (gix, rhai,
# liquid) are about a fifth of cargo-leptos' build. This project never scaffolds, so the build leaves
# that command out: a fresh machine has a CI time limit. It also drops cargo-util-schemas, whose
# locked version needs a newer rustc than ours.
drop_new_command() {
  sed -i '/^\[dependencies\.cargo-generate\]$/,/^$/d' Cargo.toml
  cat >src/command/new.rs <<'RS'
use clap::Args;

use crate::internal_prelude::*;

/// Left out of this build (leptos-scalekit's scripts/bootstrap.sh): it needs cargo-generate.
#[derive(Clone, Debug, Args, PartialEq, Eq)]
pub struct NewCommand {}

impl NewCommand {
    pub fn run(self) -> Result<()> {
        bail!("`cargo leptos new` is not in this build of cargo-leptos (built without cargo-generate)")
    }
}
RS
  # Prunes cargo-generate's packages from the lock file and keeps every other version as locked.
  cargo update --quiet --workspace
}

ensure_cargo_leptos() {
  if cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    log "cargo-leptos $CARGO_LEPTOS_VERSION present"
    return
  fi
  log "building cargo-leptos $CARGO_LEPTOS_VERSION with no_downloads, without \`new\` (about 14 minutes on 2 cores)"
  local work
  work=$(mktemp -d)
  # Fetch the published source through cargo itself (the only reachable source), then build it with a
  # resolvable lock file. --features no_downloads keeps it from downloading tools at run time.
  mkdir -p "$work/fetch/src"
  cat >"$work/fetch/Cargo.toml" <<TOML
[package]
name = "fetch-cargo-leptos"
version = "0.0.0"
edition = "2021"
[dependencies]
cargo-leptos = "=$CARGO_LEPTOS_VERSION"
TOML
  : >"$work/fetch/src/lib.rs"
  (cd "$work/fetch" && cargo fetch --quiet)
  local src
  src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cargo-leptos-"$CARGO_LEPTOS_VERSION" | head -n 1)
  cp -r "$src" "$work/cargo-leptos"
  (
    cd "$work/cargo-leptos"
    drop_new_command
    CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
      cargo install --path . --locked --features no_downloads
  )
  rm -rf "$work"
}

wasm_bindgen_lock_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

ensure_wasm_bindgen() {
  local want
  want=$(wasm_bindgen_lock_version)
  if [ -z "$want" ]; then
    echo "bootstrap: cannot find wasm-bindgen in Cargo.lock" >&2
    exit 1
  fi
  if wasm-bindgen --version 2>/dev/null | grep -q " $want"; then
    log "wasm-bindgen-cli $want present"
    return
  fi
  log "installing wasm-bindgen-cli $want (must match Cargo.lock)"
  # No --locked: its lock file pins a webpki-roots version the registry does not serve.
  cargo install wasm-bindgen-cli --version "$want" --force
}

# A Debian package, as root or through sudo, after refreshing the package lists.
apt_install() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$1" >/dev/null
}

ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then
    log "chromium present"
    return
  fi
  log "installing Debian chromium"
  apt_install chromium
}

ensure_redis() {
  # The shared session store's tests start their own redis-server on a free loopback port; only
  # the binary is needed (Debian's service is not used).
  if command -v redis-server >/dev/null 2>&1; then
    log "redis-server present"
    return
  fi
  log "installing Debian redis-server"
  apt_install redis-server
}

ensure_nginx() {
  # The reverse-proxy deployment check (scripts/deploy_check.sh) runs its own nginx, with its own
  # configuration, on free loopback ports; Debian's service is not used (stopped if it started).
  if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
    log "nginx present"
  else
    log "installing Debian nginx"
    apt_install nginx
    if command -v systemctl >/dev/null 2>&1; then
      local sudo=""
      [ "$(id -u)" -eq 0 ] || sudo=sudo
      $sudo systemctl disable --now nginx >/dev/null 2>&1 || true
    fi
  fi
  if ! command -v openssl >/dev/null 2>&1; then
    log "installing Debian openssl"
    apt_install openssl
  fi
}

ensure_node_packages() {
  # Playwright (test runner only, no browser download), binaryen's wasm-opt for release builds and
  # panva's oidc-provider for the interop tests.
  if [ -d end2end/node_modules/@playwright/test ] && [ -x end2end/node_modules/.bin/wasm-opt ] \
    && [ -f end2end/node_modules/oidc-provider/package.json ] \
    && [ end2end/node_modules/.package-lock.json -nt end2end/package-lock.json ]; then
    log "end2end npm packages present"
    return
  fi
  log "installing end2end npm packages (no browser downloads)"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
}

ensure_python_sdk() {
  # Scalekit's Python SDK and the official MCP SDK, to prove the development identity provider
  # and /mcp work with them.
  local venv=end2end/.venv
  if [ -x "$venv/bin/python" ] && [ "$venv/.installed" -nt end2end/sdk/requirements.txt ]; then
    log "Scalekit Python SDK present"
    return
  fi
  log "installing Scalekit's Python SDK and the MCP SDK into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r end2end/sdk/requirements.txt
  touch "$venv/.installed"
}

what="${1:-all}"
case "$what" in
  rust) ensure_wasm_target; ensure_cargo_leptos; ensure_wasm_bindgen ;;
  cargo-leptos) ensure_cargo_leptos ;;
  browser) ensure_chromium ;;
  redis) ensure_redis ;;
  nginx) ensure_nginx ;;
  node) ensure_node_packages ;;
  python) ensure_python_sdk ;;
  all) ensure_wasm_target; ensure_cargo_leptos; ensure_wasm_bindgen; ensure_chromium; ensure_redis; ensure_nginx; ensure_node_packages; ensure_python_sdk ;;
  *) echo "usage: $0 [all|rust|browser|redis|nginx|node|python]" >&2; exit 2 ;;
esac
