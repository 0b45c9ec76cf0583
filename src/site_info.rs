//! What every page needs to know about the deployment, for the header banner. Contains nothing
//! secret: the environment URL already appears in every authorization URL.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The site's name, after each page's title.
pub const SITE_NAME: &str = "Leptos × Scalekit";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteInfo {
    /// True when sign-in goes to the built-in development identity provider.
    pub dev_idp: bool,
    pub environment_url: String,
}

#[server(prefix = "/_app", endpoint = "site_info")]
pub async fn get_site_info() -> Result<SiteInfo, AppError> {
    let state = use_context::<crate::server::AppState>().ok_or(AppError::Internal)?;
    Ok(SiteInfo {
        dev_idp: state.config.provider.is_dev_idp(),
        environment_url: state.config.provider.environment_url().to_string(),
    })
}
