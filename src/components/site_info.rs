//! What every page needs to know about the deployment, for the header banner. Contains nothing
//! secret: the environment URL already appears in every authorization URL.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use scalekit_leptos::ServerError;

/// The site's name, after each page's title.
pub const SITE_NAME: &str = "Leptos × Scalekit";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteInfo {
    /// True when sign-in goes to the built-in development identity provider.
    pub dev_idp: bool,
    pub environment_url: String,
}

#[server(prefix = "/_app", endpoint = "site_info")]
pub async fn get_site_info() -> Result<SiteInfo, ServerError> {
    let state = crate::state::app_state()?;
    Ok(SiteInfo {
        dev_idp: state.config.provider.is_dev_idp(),
        environment_url: state.config.provider.environment_url().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use leptos::server::codee::{Decoder, Encoder};
    use scalekit_leptos::codec::PageCodec;

    use super::*;

    #[test]
    fn site_info_survives_the_trip() {
        let value: Result<SiteInfo, ServerError> = Ok(SiteInfo {
            dev_idp: true,
            environment_url: "http://127.0.0.1:3000/dev-idp".into(),
        });
        let text = <PageCodec as Encoder<_>>::encode(&value).unwrap();
        assert_eq!(<PageCodec as Decoder<_>>::decode(&text).ok(), Some(value));
    }
}
