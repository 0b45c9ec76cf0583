//! The server binary: `serve` (default) runs the app, `doctor` checks the configuration and the
//! connection to the Scalekit environment.

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    leptos_scalekit::server::cli_main().await
}

#[cfg(not(feature = "ssr"))]
pub fn main() {
    // The browser bundle starts from `hydrate()` in lib.rs; this binary needs the `ssr` feature.
}
