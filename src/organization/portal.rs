//! The customer's admin portal: a single-use link from Scalekit's management API, made per click
//! for the caller's own organization and opened in a new tab. Only for holders of
//! `organization:settings`; the link is a credential, so it is never cached, logged or kept.

use leptos::prelude::*;
use scalekit_leptos::ServerError;

/// Where the settings page's form posts (a plain form, so it works with JavaScript off too).
pub const PORTAL_LINK_URL: &str = "/_app/portal_link";

/// A new portal link for the caller's organization. A browser's form post is answered 303 to the
/// portal; a fetch gets the URL.
#[server(prefix = "/_app", endpoint = "portal_link")]
pub async fn generate_portal_link() -> Result<String, ServerError> {
    use scalekit_auth::management::PortalFeature;

    let (state, organization) = super::ssr::caller_organization(super::SETTINGS_PERMISSION)?;
    let link = state
        .management
        .portal_link(
            &organization,
            &[PortalFeature::Sso, PortalFeature::DirectorySync],
        )
        .await
        .map_err(super::ssr::management_error)?;
    tracing::info!(%organization, "admin portal link made");
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(http::header::CACHE_CONTROL, scalekit_auth::NO_STORE);
    }
    if scalekit_leptos::server::accepts_html() {
        scalekit_leptos::server::see_other(&link.location)?;
    }
    Ok(link.location)
}
