//! leptos-scalekit: enterprise sign-in with Scalekit for a Leptos 0.8 + axum app, done as a
//! backend-for-frontend. The same crate builds the server (feature `ssr`) and the browser bundle
//! (feature `hydrate`); everything server-only sits behind `ssr` so none of it reaches the wasm.

pub mod api_clients_api;
pub mod app;
pub mod components;
pub mod error;
pub mod page_codec;
pub mod pages;
pub mod server_data;
pub mod session_api;
pub mod session_view;
pub mod site_info;

#[cfg(feature = "ssr")]
pub mod api;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod dev_provider;
#[cfg(feature = "ssr")]
pub mod doctor;
#[cfg(feature = "ssr")]
pub mod mcp;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod state_file;
#[cfg(feature = "ssr")]
pub mod views;
#[cfg(feature = "ssr")]
pub mod web;

/// Browser entry point: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Waits for the chunk of a lazily loaded page the visit starts on, then hydrates.
    leptos::mount::hydrate_lazy(app::App);
}
