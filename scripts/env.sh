# Sourced by the other scripts: the tool paths and the build environment they share.
# cargo-leptos compiles the server with these variables; giving `cargo test` and `cargo clippy` the
# same ones lets them reuse its build instead of recompiling every crate.

export PATH="$PWD/end2end/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export LEPTOS_OUTPUT_NAME=leptos-scalekit
export RUSTFLAGS="--cfg erase_components"
