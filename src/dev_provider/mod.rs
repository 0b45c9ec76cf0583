//! The app's use of the development identity provider (the `scalekit-dev-idp` crate): starting it
//! when no Scalekit environment is configured, mounting it at [`DEV_IDP_MOUNT_PATH`], and the
//! `dev-idp` command that serves it alone. All of it behind the `dev-idp` cargo feature (on by
//! default): a build without it has no provider code at all, and its configuration refuses to
//! start without a Scalekit environment.

#[cfg(feature = "dev-idp")]
pub mod standalone;

use std::sync::Arc;

use axum::Router;

use crate::config::Config;
#[cfg(feature = "dev-idp")]
use crate::config::{ProviderConfig, DEV_CLIENT_ID, DEV_IDP_MOUNT_PATH};

/// The running provider.
#[cfg(feature = "dev-idp")]
pub type DevProvider = scalekit_dev_idp::DevIdp;
/// Without the feature there is no provider: nothing can make one.
#[cfg(not(feature = "dev-idp"))]
pub enum DevProvider {}

/// Starts the provider when the configuration asks for it (no Scalekit environment), with the
/// app's own redirect, post-logout and back-channel logout URIs, MCP resource and webhook
/// endpoint registered.
#[cfg(feature = "dev-idp")]
pub fn start(config: &Config) -> Result<Option<Arc<DevProvider>>, String> {
    use scalekit_dev_idp::IdpSettings;
    let ProviderConfig::DevIdp { environment_url } = &config.provider else {
        return Ok(None);
    };
    let mut settings =
        IdpSettings::load(config.dev_idp_config.as_deref()).map_err(|e| e.to_string())?;
    settings.register_app_uris(
        DEV_CLIENT_ID,
        &config.redirect_uri,
        &config.post_logout_redirect_uri,
    );
    settings.register_app_backchannel_logout_uri(
        DEV_CLIENT_ID,
        &format!("{}/auth/backchannel-logout", config.app_url),
    )?;
    settings.register_app_initiate_login_uri(
        DEV_CLIENT_ID,
        &format!(
            "{}{}",
            config.app_url,
            scalekit_auth::axum_edge::INITIATE_LOGIN_PATH
        ),
    )?;
    // Signed with the secret the app verifies with: its own, else the provider's built-in one.
    if let Some(webhook) = &config.webhook_secret {
        settings.register_app_webhook(
            &format!("{}{}", config.app_url, crate::webhooks::WEBHOOK_PATH),
            webhook.secret.expose(),
        )?;
    }
    if let Some(resource_id) = &config.mcp_resource_id {
        settings.register_app_resource(
            resource_id,
            &format!("{}{}", config.app_url, crate::mcp::MCP_PATH),
            &crate::mcp::SCOPES,
        );
    }
    let idp = DevProvider::new(
        environment_url.clone(),
        DEV_IDP_MOUNT_PATH.to_string(),
        settings,
        &config.dev_state_dir.join("dev-idp-keys.json"),
    )
    .map_err(|e| e.to_string())?;
    Ok(Some(Arc::new(idp)))
}

#[cfg(not(feature = "dev-idp"))]
pub fn start(_config: &Config) -> Result<Option<Arc<DevProvider>>, String> {
    // Configuration only yields a development provider when this feature is on.
    Ok(None)
}

/// The provider's issuer, for the start-up warning.
pub fn issuer(idp: &DevProvider) -> &str {
    #[cfg(feature = "dev-idp")]
    return &idp.issuer;
    #[cfg(not(feature = "dev-idp"))]
    match *idp {}
}

/// `router` with the provider's routes: its own under the mount path, and the well-known and gRPC
/// routes that belong at the host's root.
pub fn mount<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    idp: &Arc<DevProvider>,
) -> Router<S> {
    #[cfg(feature = "dev-idp")]
    return scalekit_dev_idp::mount(router, idp.clone());
    #[cfg(not(feature = "dev-idp"))]
    {
        let _ = router;
        match **idp {}
    }
}

/// `leptos-scalekit dev-idp`.
pub async fn run_standalone() -> std::process::ExitCode {
    #[cfg(feature = "dev-idp")]
    return standalone::run().await;
    #[cfg(not(feature = "dev-idp"))]
    {
        eprintln!("error: this build has no development identity provider (built without the `dev-idp` feature)");
        std::process::ExitCode::FAILURE
    }
}

#[cfg(all(test, feature = "dev-idp"))]
mod tests {
    use crate::config::webhooks::DEV_WEBHOOK_SECRET;
    use crate::config::{DEV_CLIENT_ID, DEV_CLIENT_SECRET, DEV_RESOURCE_ID};

    #[test]
    fn the_app_uses_the_providers_built_in_client_and_resource() {
        use scalekit_dev_idp::settings as idp;
        assert_eq!(DEV_CLIENT_ID, idp::DEV_CLIENT_ID);
        assert_eq!(DEV_CLIENT_SECRET, idp::DEV_CLIENT_SECRET);
        assert_eq!(DEV_RESOURCE_ID, idp::DEV_RESOURCE_ID);
        assert_eq!(DEV_WEBHOOK_SECRET, idp::DEV_WEBHOOK_SECRET);
        assert_eq!(
            crate::webhooks::WEBHOOK_PATH,
            scalekit_dev_idp::APP_WEBHOOK_PATH
        );
    }
}
