//! The server binary: `serve` (default) runs the app, `doctor` checks the configuration and the
//! connection to the Scalekit environment.

/// mimalloc instead of the system allocator: page rendering allocates and frees many small
/// strings per request, where glibc's malloc spent a quarter of the time (see scripts/bench.sh).
#[cfg(feature = "ssr")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    leptos_scalekit::server::cli_main().await
}

#[cfg(not(feature = "ssr"))]
pub fn main() {
    // The browser bundle starts from `hydrate()` in lib.rs; this binary needs the `ssr` feature.
}
