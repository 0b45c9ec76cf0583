//! What every page needs to know about the deployment, for the header banner: whether sign-in
//! goes to the built-in development identity provider, and where it is. Nothing secret: the
//! environment URL already appears in every authorization URL.
//!
//! It never changes while the server runs, so it is not page data: the server reads it from its
//! state and writes it on `<body>` (the server-only shell), and the browser reads it back from
//! there before hydrating. Both sides render the banner from the same value without a resource,
//! a suspense boundary or hydration data.

/// The site's name, after each page's title.
pub const SITE_NAME: &str = "Leptos × Scalekit";

/// The `<body>` attribute carrying the development provider's URL (absent otherwise).
pub const DEV_PROVIDER_ATTRIBUTE: &str = "data-dev-provider";

/// The development identity provider's URL when sign-in uses it, `None` with Scalekit.
#[cfg(feature = "ssr")]
pub fn dev_provider_url() -> Option<String> {
    let state = leptos::prelude::use_context::<crate::state::AppState>()?;
    let provider = &state.config.provider;
    provider
        .is_dev_idp()
        .then(|| provider.environment_url().to_string())
}

/// The same, as the server wrote it on `<body>`.
#[cfg(not(feature = "ssr"))]
pub fn dev_provider_url() -> Option<String> {
    leptos::prelude::document()
        .body()?
        .get_attribute(DEV_PROVIDER_ATTRIBUTE)
}
