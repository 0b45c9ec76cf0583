//! What the browser may know about the signed-in user (claims and timings, never a token), and
//! the request's session in the four states pages and server functions tell apart. Shared by the
//! server (which builds them) and the pages (which show them).

use serde::{Deserialize, Serialize};

use crate::error::ServerError;

/// Who is signed in, derived on the server from the validated tokens.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    /// The provider's stable user id (`usr_…` at Scalekit): the key for everything per user.
    pub sub: String,
    /// The name to greet the user with (the `name` claim, else the email, else `sub`).
    pub name: String,
    /// The verified email address, when the provider gave one.
    pub email: Option<String>,
    /// The organization the session is for (`org_…`).
    pub organization_id: Option<String>,
    /// The user's roles in that organization.
    pub roles: Vec<String>,
    /// What the roles allow (`organization:settings`), as the guard checks them.
    pub permissions: Vec<String>,
}

impl UserSummary {
    /// Whether the user holds `permission`.
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }
}

/// A token's presence, shown as a short fingerprint (the first bytes of its SHA-256), which lets
/// a person see that a refresh changed it without revealing anything usable.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenFingerprints {
    /// The access token's.
    pub access_token: Option<String>,
    /// The refresh token's, when the session has one (`offline_access`).
    pub refresh_token: Option<String>,
    /// The ID token's.
    pub id_token: Option<String>,
}

/// The signed-in session as the UI sees it. Times are seconds since the epoch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// Who is signed in.
    pub user: UserSummary,
    /// When the access token expires (it is refreshed shortly before).
    pub access_token_expires_at: u64,
    /// When the session ends without activity (idle timeout).
    pub idle_expires_at: u64,
    /// When the session ends whatever happens (absolute timeout).
    pub absolute_expires_at: u64,
    /// When the user signed in.
    pub signed_in_at: u64,
    /// Which tokens the session holds, as fingerprints.
    pub tokens: TokenFingerprints,
}

/// The request's session in the four states pages and server functions tell apart. `S` is what
/// a session carries: its `SessionView` in pages, the whole session on the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthState<S = SessionView> {
    /// No session.
    SignedOut,
    /// Signed out just now: the session timed out or the provider ended it.
    SessionEnded,
    /// A usable session.
    SignedIn(S),
    /// Signed in, but it cannot be used now: the access token expired while the provider is
    /// unreachable, or the session store cannot say whether the session was ended.
    ProviderUnavailable(S),
}

/// What a request may do. Decided in one place ([`AuthState::access`]) for page guards, page
/// data and server functions, so they always agree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access<S> {
    /// Go ahead, with this session.
    Allowed(S),
    /// Signed in without this permission: 403.
    Forbidden(&'static str),
    /// Signed in, but not usable now: 503.
    Unavailable,
    /// Not signed in: sign in first (`ended`: the session has just timed out or been ended).
    SignIn {
        /// The session has just timed out or been ended (the sign-in page can say so).
        ended: bool,
    },
}

impl<S> AuthState<S> {
    /// The session, usable or not.
    pub fn view(&self) -> Option<&S> {
        match self {
            AuthState::SignedOut | AuthState::SessionEnded => None,
            AuthState::SignedIn(v) | AuthState::ProviderUnavailable(v) => Some(v),
        }
    }

    /// The same state borrowing its session, to decide without copying it.
    pub fn as_ref(&self) -> AuthState<&S> {
        match self {
            AuthState::SignedOut => AuthState::SignedOut,
            AuthState::SessionEnded => AuthState::SessionEnded,
            AuthState::SignedIn(s) => AuthState::SignedIn(s),
            AuthState::ProviderUnavailable(s) => AuthState::ProviderUnavailable(s),
        }
    }

    /// The same state carrying `f` of the session.
    pub fn map<T>(self, f: impl FnOnce(S) -> T) -> AuthState<T> {
        match self {
            AuthState::SignedOut => AuthState::SignedOut,
            AuthState::SessionEnded => AuthState::SessionEnded,
            AuthState::SignedIn(s) => AuthState::SignedIn(f(s)),
            AuthState::ProviderUnavailable(s) => AuthState::ProviderUnavailable(f(s)),
        }
    }

    /// The decision: a usable session holding `permission` (when one is named) is allowed.
    /// `holds` says whether a session holds a permission.
    pub fn access(
        self,
        permission: Option<&'static str>,
        holds: impl FnOnce(&S, &str) -> bool,
    ) -> Access<S> {
        match self {
            AuthState::SignedIn(session) => match permission {
                Some(needed) if !holds(&session, needed) => Access::Forbidden(needed),
                _ => Access::Allowed(session),
            },
            AuthState::ProviderUnavailable(_) => Access::Unavailable,
            AuthState::SessionEnded => Access::SignIn { ended: true },
            AuthState::SignedOut => Access::SignIn { ended: false },
        }
    }
}

impl<S: Clone> Access<&S> {
    /// The same decision owning a copy of the session (as `Option::cloned`).
    pub fn cloned(self) -> Access<S> {
        match self {
            Access::Allowed(session) => Access::Allowed(session.clone()),
            Access::Forbidden(needed) => Access::Forbidden(needed),
            Access::Unavailable => Access::Unavailable,
            Access::SignIn { ended } => Access::SignIn { ended },
        }
    }
}

impl<S> Access<S> {
    /// As a server function answers it.
    pub fn into_result(self) -> Result<S, ServerError> {
        match self {
            Access::Allowed(session) => Ok(session),
            Access::Forbidden(needed) => Err(ServerError::Forbidden(needed.to_string())),
            Access::Unavailable => Err(ServerError::ProviderUnavailable),
            Access::SignIn { .. } => Err(ServerError::Unauthorized),
        }
    }
}

/// The result of checking the current access token against the provider's keys right now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCheck {
    /// The token passed every check.
    pub valid: bool,
    /// Why the token was refused, in words.
    pub problem: Option<String>,
    /// `sub`.
    pub subject: Option<String>,
    /// `iss`.
    pub issuer: Option<String>,
    /// `aud`, as a list.
    pub audience: Vec<String>,
    /// `iat`.
    pub issued_at: Option<u64>,
    /// `exp`.
    pub expires_at: Option<u64>,
    /// `permissions`.
    pub permissions: Vec<String>,
}

#[cfg(test)]
mod access_tests {
    use super::{Access, AuthState};
    use crate::error::ServerError;

    /// A session is the list of its permissions here.
    fn decide(
        state: AuthState<Vec<&'static str>>,
        permission: Option<&'static str>,
    ) -> Access<Vec<&'static str>> {
        state.access(permission, |held, needed| held.contains(&needed))
    }

    #[test]
    fn x5_one_decision_for_pages_and_server_functions() {
        let admin = vec!["organization:settings"];
        assert_eq!(
            decide(AuthState::SignedIn(admin.clone()), None),
            Access::Allowed(admin.clone())
        );
        assert_eq!(
            decide(
                AuthState::SignedIn(admin.clone()),
                Some("organization:settings")
            ),
            Access::Allowed(admin.clone())
        );
        assert_eq!(
            decide(AuthState::SignedIn(vec![]), Some("organization:settings")),
            Access::Forbidden("organization:settings")
        );
        assert_eq!(
            decide(AuthState::ProviderUnavailable(admin), None),
            Access::Unavailable
        );
        assert_eq!(
            decide(AuthState::SessionEnded, None),
            Access::SignIn { ended: true }
        );
        assert_eq!(
            decide(AuthState::SignedOut, Some("x")),
            Access::SignIn { ended: false }
        );

        let status =
            |access: Access<Vec<&'static str>>| access.into_result().map_err(|e| e.status_code());
        assert_eq!(status(Access::Forbidden("x")), Err(403));
        assert_eq!(status(Access::Unavailable), Err(503));
        assert_eq!(status(Access::SignIn { ended: true }), Err(401));
        assert!(matches!(
            Access::<()>::Forbidden("p").into_result(),
            Err(ServerError::Forbidden(p)) if p == "p"
        ));
    }

    #[test]
    fn x5_deciding_on_a_borrowed_session_decides_the_same() {
        let holds = |held: &Vec<&'static str>, needed: &str| held.contains(&needed);
        let states = [
            AuthState::SignedIn(vec!["organization:settings"]),
            AuthState::SignedIn(vec![]),
            AuthState::ProviderUnavailable(vec!["organization:settings"]),
            AuthState::SessionEnded,
            AuthState::SignedOut,
        ];
        for state in states {
            for permission in [None, Some("organization:settings")] {
                let borrowed = state
                    .as_ref()
                    .access(permission, |held, needed| holds(held, needed))
                    .cloned();
                assert_eq!(borrowed, decide(state.clone(), permission), "{state:?}");
            }
        }
    }
}
