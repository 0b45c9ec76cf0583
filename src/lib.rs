//! leptos-scalekit: the example app of enterprise sign-in with Scalekit for Leptos 0.8 + axum,
//! built on the `scalekit-leptos` layer and the `scalekit-auth` core. The same crate builds the
//! server (feature `ssr`) and the browser bundle (feature `hydrate`); everything server-only sits
//! behind `ssr` so none of it reaches the wasm.

// The pages' view types, rendered without a boundary inside the sign-in guard, are deeper than
// the compiler's default limit lets a release build lay out.
#![recursion_limit = "256"]

pub mod account;
pub mod app;
pub mod components;
pub mod organization;
pub mod pages;

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
pub mod state;
#[cfg(feature = "ssr")]
pub mod state_file;
#[cfg(feature = "ssr")]
pub mod views;
#[cfg(feature = "ssr")]
pub mod web;
#[cfg(feature = "ssr")]
pub mod webhooks;

/// Browser entry point: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Waits for the chunk of a lazily loaded page the visit starts on, then hydrates.
    leptos::mount::hydrate_lazy(app::App);
}
