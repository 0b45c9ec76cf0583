#!/usr/bin/env bash
# Builds the browser bundle, then the server, one after the other (on two cores two cargo builds at
# once are slower than in turn). Usage: scripts/build.sh [--release] [--bench-baselines]
#   --bench-baselines: the server with the benchmark's baselines (scripts/bench.sh; never deploy it)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

release=()
front_release=()
front_flags="${RUSTFLAGS:-}"
server_features=()
for arg in "$@"; do
  case "$arg" in
    --release) ;;
    --bench-baselines) server_features=(--bin-features ssr,dev-idp,bench-baselines) ;;
    *) echo "usage: $0 [--release] [--bench-baselines]" >&2; exit 2 ;;
  esac
done
if [[ " $* " == *" --release "* ]]; then
  release=(--release)
  # --precompress: gzip and brotli copies of every site file, which the file server sends to
  # browsers that accept them (the first load's wasm is about a third of its raw size in transit).
  # cargo-leptos empties the site root on each front-end build, so no stale copy outlives a rebuild.
  front_release=(--release --precompress)
  # Release front ends go through wasm-opt; cargo-leptos finds it on PATH (npm's binaryen).
  command -v wasm-opt >/dev/null || scripts/bootstrap.sh node
  # cargo-leptos does not add erase_components to release builds.
  unset RUSTFLAGS
  # Panic locations in the bundle name crate sources; drop the builder's registry path from them
  # (shorter, and the bundle does not reveal the build machine's home directory).
  front_flags=""
  for registry in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do
    front_flags="$front_flags --remap-path-prefix=$registry="
  done
fi
# --project: the workspace holds another Leptos project (examples/minimal), built by the tests.
# --split: pages marked lazy in src/app.rs become separate wasm chunks, loaded on demand.
RUSTFLAGS="$front_flags" cargo leptos build --project leptos-scalekit --frontend-only --split "${front_release[@]}"
cargo leptos build --project leptos-scalekit --server-only "${release[@]}" "${server_features[@]}"
