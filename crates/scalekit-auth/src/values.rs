//! The protocol's values as types, so one cannot be passed where another is meant and none is
//! printed by accident: the sign-in's `state`, `nonce` and PKCE verifier (256 random bits each,
//! made only here), the provider's issuer (made only from validated discovery) and the local path a
//! sign-in returns to (made only by the return-path check, checklist L11).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::secret::{constant_time_eq, random_token};

/// 256 bits from the OS generator, base64url without padding: 43 characters.
const RANDOM_VALUE_LEN: usize = 43;

/// Whether `value` has the shape of one of our random values (for values read back from a
/// cookie: anything else was not written by us).
fn is_random_value(value: &str) -> bool {
    value.len() == RANDOM_VALUE_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Defines a secret random protocol value: fresh from the OS generator, compared in constant
/// time, never printed, and refused on deserialisation unless it has the shape we write.
macro_rules! random_value {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// A fresh value: 256 bits from the OS random generator.
            pub fn random() -> $name {
                $name(random_token(32))
            }

            /// The value, for the one request that sends it.
            pub fn expose(&self) -> &str {
                &self.0
            }

            /// Whether `candidate` (from a request) is this value, compared in constant time.
            pub fn matches(&self, candidate: &str) -> bool {
                constant_time_eq(candidate, &self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<$name, String> {
                if is_random_value(&value) {
                    Ok($name(value))
                } else {
                    Err(concat!("not a ", stringify!($name)).to_string())
                }
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        /// Never prints the value.
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

random_value!(
    /// The authorization request's `state`: the callback must bring it back (checklist L5).
    State
);
random_value!(
    /// The authorization request's `nonce`: the ID token must carry it (checklist I11).
    Nonce
);
random_value!(
    /// The PKCE code verifier: its S256 challenge goes with the authorization request, the
    /// verifier itself only with the code exchange (RFC 7636).
    PkceVerifier
);

#[cfg(test)]
impl PkceVerifier {
    /// RFC 7636's example verifier, for the challenge test.
    pub(crate) fn from_rfc_example(value: &str) -> PkceVerifier {
        PkceVerifier(value.to_string())
    }
}

/// The provider's issuer identifier, as validated discovery states it (it equals the
/// environment URL, OIDC Discovery §4.3). Tokens and callbacks are checked against it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Issuer(String);

impl Issuer {
    /// Made by discovery once the document passed its checks.
    pub(crate) fn validated(issuer: &str) -> Issuer {
        Issuer(issuer.to_string())
    }

    /// The issuer URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A path on this site (with an optional query) that a sign-in may return to. Only
/// [`ReturnPath::parse`], the open-redirect check, makes one, so a value of this type is always
/// safe to put in a `Location` header.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReturnPath(String);

impl ReturnPath {
    /// `raw` if it is a safe same-origin path, else `None` (checklist L11): see
    /// `return_to::safe_return_path` for what is refused.
    pub fn parse(raw: &str) -> Option<ReturnPath> {
        crate::return_to::safe_return_path(raw).map(ReturnPath)
    }

    /// The site's root, `/`.
    pub fn root() -> ReturnPath {
        ReturnPath("/".to_string())
    }

    /// The path, with its query if any.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is `base` or a page under it (`/login`, `/login/sso`, `/login?x`), so a
    /// sign-in never returns to the page that starts one.
    pub fn is_under(&self, base: &str) -> bool {
        let base = base.trim_end_matches('/');
        match self.0.strip_prefix(base) {
            Some(rest) => rest.is_empty() || rest.starts_with(['/', '?']),
            None => false,
        }
    }

    /// Whether this path must not be where a sign-in lands, because it would loop or sign out:
    /// the login page (`login_path`, and `/login`), `/logout`, the sign-in edges under `/auth`
    /// and the server functions under `/_app`.
    pub fn is_sign_in_machinery(&self, login_path: &str) -> bool {
        [login_path, "/login", "/logout", "/auth", "/_app"]
            .iter()
            .any(|base| self.is_under(base))
    }
}

impl TryFrom<String> for ReturnPath {
    type Error = String;
    fn try_from(value: String) -> Result<ReturnPath, String> {
        ReturnPath::parse(&value).ok_or_else(|| "not a local path".to_string())
    }
}

impl From<ReturnPath> for String {
    fn from(value: ReturnPath) -> String {
        value.0
    }
}

impl fmt::Display for ReturnPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l3_random_values_are_fresh_and_never_printed() {
        let (a, b) = (State::random(), State::random());
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), RANDOM_VALUE_LEN);
        assert!(!format!("{a:?}").contains(a.expose()));
        assert!(a.matches(a.expose()) && !a.matches(b.expose()));
    }

    #[test]
    fn l5_random_values_read_back_must_have_our_shape() {
        let nonce = Nonce::random();
        let json = serde_json::to_string(&nonce).unwrap();
        assert_eq!(serde_json::from_str::<Nonce>(&json).unwrap(), nonce);
        for forged in [
            "\"\"",
            "\"short\"",
            &format!("\"{}\"", "a".repeat(42) + "!"),
        ] {
            assert!(serde_json::from_str::<Nonce>(forged).is_err(), "{forged}");
        }
    }

    #[test]
    fn l11_return_paths_come_only_from_the_check() {
        assert_eq!(
            ReturnPath::parse("/dashboard").map(String::from).as_deref(),
            Some("/dashboard")
        );
        assert!(ReturnPath::parse("//evil.example").is_none());
        assert!(serde_json::from_str::<ReturnPath>("\"https://evil.example/\"").is_err());
        let path: ReturnPath = serde_json::from_str("\"/sessions?tab=1\"").unwrap();
        assert_eq!(path.as_str(), "/sessions?tab=1");
    }

    #[test]
    fn l11_the_sign_in_page_is_not_a_return_path_target() {
        let under = |raw: &str| ReturnPath::parse(raw).unwrap().is_under("/login");
        assert!(under("/login") && under("/login/sso") && under("/login?next=/x"));
        assert!(!under("/loginx") && !under("/dashboard"));
    }
}
