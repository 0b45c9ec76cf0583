//! What the browser may see, built on the server from the auth core's types: the session view
//! (times and token fingerprints, never a token), the user summary, API clients without secrets,
//! and the claims tables. The core knows nothing of these shapes; the pages share them with the
//! browser bundle (`session_view`).

pub mod claims_table;

use scalekit_auth::management::{ApiClient, CreatedApiClient};
use scalekit_auth::session::{fingerprint, Session, SessionPolicy};
use scalekit_auth::user::User;

use crate::session_view::{ApiClientView, SessionView, TokenFingerprints, UserSummary};

pub fn user_summary(user: &User) -> UserSummary {
    UserSummary {
        sub: user.sub.clone(),
        name: user.name.clone(),
        email: user.email.clone(),
        organization_id: user.organization_id.clone(),
        roles: user.roles.clone(),
        permissions: user.permissions.clone(),
    }
}

/// The session as the pages show it: its user, its timeouts under `policy`, and fingerprints of
/// its tokens.
pub fn session_view(session: &Session, policy: &SessionPolicy) -> SessionView {
    SessionView {
        user: user_summary(&session.user),
        access_token_expires_at: session.access_token_expires_at,
        idle_expires_at: session.idle_expires_at(policy),
        absolute_expires_at: session.absolute_expires_at(policy),
        signed_in_at: session.signed_in_at,
        tokens: TokenFingerprints {
            access_token: Some(fingerprint(&session.access_token)),
            refresh_token: session.refresh_token.as_deref().map(fingerprint),
            id_token: session.id_token.as_deref().map(fingerprint),
        },
    }
}

pub fn api_client_view(client: ApiClient) -> ApiClientView {
    ApiClientView {
        client_id: client.client_id,
        name: client.name,
        description: client.description,
        scopes: client.scopes,
        expiry: client.expiry,
        created: client.created,
        secret_suffix: client.secret_suffix,
    }
}

pub fn created_api_client(created: CreatedApiClient) -> crate::session_view::CreatedApiClient {
    crate::session_view::CreatedApiClient {
        client: api_client_view(created.client),
        plain_secret: created.plain_secret,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c4_the_session_view_carries_fingerprints_not_tokens() {
        let session = Session {
            id: "id".into(),
            issuer: "https://env.example".into(),
            user: User {
                sub: "usr_1".into(),
                permissions: vec!["organization:settings".into()],
                ..User::default()
            },
            access_token: "at-secret".into(),
            access_token_expires_at: 299,
            refresh_token: Some("rt-secret".into()),
            id_token: Some("id-secret".into()),
            signed_in_at: 0,
            last_seen: 0,
            provider_sid: None,
        };
        let policy = SessionPolicy {
            idle_timeout_secs: 1800,
            absolute_timeout_secs: 8 * 3600,
        };
        let view = session_view(&session, &policy);
        let text = format!("{view:?}");
        for secret in ["at-secret", "rt-secret", "id-secret"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert_eq!(view.tokens.access_token, Some(fingerprint("at-secret")));
        assert_eq!(view.idle_expires_at, 1800);
        assert!(view.user.has_permission("organization:settings"));
    }
}
