//! The server binary: `serve` (default) runs the app, `doctor` checks the configuration and the
//! connection to the Scalekit environment.

/// mimalloc instead of the system allocator: page rendering allocates and frees many small
/// strings per request, where glibc's malloc spent a quarter of the time (see scripts/bench.sh).
#[cfg(feature = "ssr")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Tokio's blocking pool serves static files (`tokio::fs`, one task per read) and DNS lookups.
/// At its default cap of 512 a burst of asset requests starts a thread for nearly each one: 120
/// threads and +75 MiB resident at 64 connections. Reads take microseconds, so a few threads per
/// core keep up, and the cap leaves room for slow DNS lookups of the Scalekit host.
#[cfg(feature = "ssr")]
const MAX_BLOCKING_THREADS: usize = 16;

#[cfg(feature = "ssr")]
fn main() -> std::process::ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .build();
    match runtime {
        Ok(runtime) => runtime.block_on(leptos_scalekit::server::cli_main()),
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(not(feature = "ssr"))]
pub fn main() {
    // The browser bundle starts from `hydrate()` in lib.rs; this binary needs the `ssr` feature.
}
