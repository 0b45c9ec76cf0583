//! One sign-in attempt: state, nonce and PKCE verifier (fresh from the OS random generator every
//! time, 256 bits each), where to return, and when it started (checklist L2–L4). The app keeps it
//! in a short-lived encrypted cookie between the login request and the callback.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub(crate) use super::authorization_hints::AuthorizationHints;
use super::discovery::ProviderMetadata;
use crate::values::{Nonce, PkceVerifier, ReturnPath, State};

/// A sign-in must come back within ten minutes (Scalekit's codes live as long).
pub const TRANSACTION_TTL_SECS: u64 = 600;

/// One sign-in attempt, sealed in the transaction cookie between the login request and the
/// callback. Its values are typed (see `values`), so `Debug` shows neither the state, the nonce
/// nor the verifier, and one read back from a cookie has the shape we wrote or is refused.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    state: State,
    nonce: Nonce,
    code_verifier: PkceVerifier,
    return_to: ReturnPath,
    created_at: u64,
}

/// Never prints the verifier, state or nonce.
impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("return_to", &self.return_to.as_str())
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

impl Transaction {
    /// A new attempt that returns to `return_to` (a path the caller already checked), with a fresh
    /// state, nonce and PKCE verifier from the OS random generator.
    pub fn new(return_to: ReturnPath, now: u64) -> Transaction {
        Transaction {
            state: State::random(),
            nonce: Nonce::random(),
            code_verifier: PkceVerifier::random(),
            return_to,
            created_at: now,
        }
    }

    /// The `state` the callback must bring back.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The `nonce` the ID token must carry.
    pub fn nonce(&self) -> &Nonce {
        &self.nonce
    }

    /// The PKCE verifier, for the code exchange.
    pub fn code_verifier(&self) -> &PkceVerifier {
        &self.code_verifier
    }

    /// Where the browser goes once signed in.
    pub fn return_to(&self) -> &ReturnPath {
        &self.return_to
    }

    /// When the attempt started, in seconds since the epoch.
    pub fn created_at(&self) -> u64 {
        self.created_at
    }

    /// RFC 7636 S256: base64url(SHA-256(verifier)).
    pub fn code_challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.code_verifier.expose().as_bytes()))
    }

    /// Whether the attempt is over: more than [`TRANSACTION_TTL_SECS`] old, or started more than a
    /// minute in the future (clock skew is tolerated up to there).
    pub fn is_expired(&self, now: u64) -> bool {
        now.saturating_sub(self.created_at) > TRANSACTION_TTL_SECS || self.created_at > now + 60
    }

    /// The provider's authorization URL for this attempt.
    pub fn authorization_url(
        &self,
        provider: &ProviderMetadata,
        client_id: &str,
        redirect_uri: &str,
        scopes: &[String],
        hints: &AuthorizationHints,
    ) -> Result<String, url::ParseError> {
        let mut url = url::Url::parse(&provider.authorization_endpoint)?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", client_id)
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("scope", &scopes.join(" "))
                .append_pair("state", self.state.expose())
                .append_pair("nonce", self.nonce.expose())
                .append_pair("code_challenge", &self.code_challenge())
                .append_pair("code_challenge_method", "S256");
            for (name, value) in hints.pairs() {
                query.append_pair(name, value);
            }
        }
        Ok(url.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(raw: &str) -> ReturnPath {
        ReturnPath::parse(raw).unwrap()
    }

    fn metadata() -> ProviderMetadata {
        ProviderMetadata::scalekit_defaults("https://acme.scalekit.dev")
    }

    #[test]
    fn l2_authorization_url_carries_every_required_parameter() {
        let tx = Transaction::new(path("/dashboard"), 1000);
        let scopes = vec!["openid".to_string(), "offline_access".to_string()];
        let url = tx
            .authorization_url(
                &metadata(),
                "skc_1",
                "http://127.0.0.1:3000/auth/callback",
                &scopes,
                &AuthorizationHints::default(),
            )
            .unwrap();
        let url = url::Url::parse(&url).unwrap();
        assert_eq!(url.path(), "/oauth/authorize");
        let params: std::collections::HashMap<String, String> =
            url.query_pairs().into_owned().collect();
        assert_eq!(params["response_type"], "code");
        assert_eq!(params["client_id"], "skc_1");
        assert_eq!(
            params["redirect_uri"],
            "http://127.0.0.1:3000/auth/callback"
        );
        assert_eq!(params["scope"], "openid offline_access");
        assert_eq!(params["state"], tx.state.expose());
        assert_eq!(params["nonce"], tx.nonce.expose());
        assert_eq!(params["code_challenge"], tx.code_challenge());
        assert_eq!(params["code_challenge_method"], "S256");
        assert!(!params.contains_key("login_hint"));
    }

    #[test]
    fn l2_hints_are_passed_through() {
        let tx = Transaction::new(path("/"), 0);
        let hints = AuthorizationHints {
            connection_id: Some("conn_1".into()),
            organization_id: Some("org_1".into()),
            domain_hint: Some("example.com".into()),
            login_hint: Some("ada@example.com".into()),
            provider: Some("google".into()),
            prompt: Some("login".into()),
        };
        let url = tx
            .authorization_url(&metadata(), "c", "https://a/cb", &["openid".into()], &hints)
            .unwrap();
        assert!(url.contains("organization_id=org_1"));
        assert!(url.contains("login_hint=ada%40example.com"));
        assert!(url.contains("prompt=login"));
        assert!(url.contains("connection_id=conn_1"));
        assert!(url.contains("domain_hint=example.com"));
        assert!(url.contains("provider=google"));
    }

    #[test]
    fn l3_values_are_long_random_and_differ_every_attempt() {
        let a = Transaction::new(path("/"), 0);
        let b = Transaction::new(path("/"), 0);
        for (x, y) in [
            (a.state.expose(), b.state.expose()),
            (a.nonce.expose(), b.nonce.expose()),
            (a.code_verifier.expose(), b.code_verifier.expose()),
        ] {
            assert_ne!(x, y);
            assert_eq!(x.len(), 43, "256 bits, base64url");
        }
        assert_ne!(a.state.expose(), a.nonce.expose());
    }

    #[test]
    fn pkce_challenge_matches_rfc7636_appendix_b() {
        let mut tx = Transaction::new(path("/"), 0);
        tx.code_verifier =
            PkceVerifier::from_rfc_example("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(
            tx.code_challenge(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn l4_transactions_expire_after_ten_minutes() {
        let tx = Transaction::new(path("/"), 1_000);
        assert!(!tx.is_expired(1_000 + TRANSACTION_TTL_SECS));
        assert!(tx.is_expired(1_000 + TRANSACTION_TTL_SECS + 1));
        assert!(tx.is_expired(0), "from the future");
    }

    #[test]
    fn e4_debug_hides_the_secrets() {
        let tx = Transaction::new(path("/x"), 0);
        let text = format!("{tx:?}");
        assert!(
            !text.contains(tx.state.expose())
                && !text.contains(tx.nonce.expose())
                && !text.contains(tx.code_verifier.expose())
        );
    }
}
