//! What the browser may know about the signed-in user: claims and timings, never a token. Shared
//! by the server (which builds it) and the pages (which show it).

use serde::{Deserialize, Serialize};

/// Who is signed in, derived on the server from the validated tokens.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    /// The provider's stable user id (`usr_…` at Scalekit): the key for everything per user.
    pub sub: String,
    pub name: String,
    pub email: Option<String>,
    pub organization_id: Option<String>,
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
}

impl UserSummary {
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }
}

/// A token's presence, shown as a short fingerprint (the first bytes of its SHA-256), which lets
/// a person see that a refresh changed it without revealing anything usable.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenFingerprints {
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
}

/// The signed-in session as the UI sees it. Times are seconds since the epoch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub user: UserSummary,
    pub access_token_expires_at: u64,
    /// When the session ends without activity (idle timeout).
    pub idle_expires_at: u64,
    /// When the session ends whatever happens (absolute timeout).
    pub absolute_expires_at: u64,
    pub signed_in_at: u64,
    pub tokens: TokenFingerprints,
}

/// Permission needed for the organization settings page.
pub const SETTINGS_PERMISSION: &str = "organization:settings";
