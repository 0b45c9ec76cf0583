//! The development identity provider on a real loopback port, for tests of the HTTP clients.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use scalekit_dev_idp::IdpSettings;
use scalekit_dev_idp::{standalone_router, DevIdp};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const CLIENT_ID: &str = "skc_dev_leptos_scalekit";
pub const CLIENT_SECRET: &str = "dev-only-secret-never-used-with-scalekit";
pub const REDIRECT_URI: &str = "http://127.0.0.1:3000/auth/callback";
pub const VERIFIER: &str = "provider-test-verifier-0123456789-0123456789";

pub struct Provider {
    pub base: String,
    /// How many times `/keys` was fetched.
    pub key_fetches: Arc<AtomicUsize>,
    /// Follows no redirects.
    pub client: reqwest::Client,
}

impl Provider {
    pub fn key_fetches(&self) -> usize {
        self.key_fetches.load(Ordering::SeqCst)
    }
}

pub async fn start_provider() -> Provider {
    start_provider_on("127.0.0.1:0").await
}

/// The provider on a given loopback address (a port chosen earlier, to bring a "down" provider up).
pub async fn start_provider_on(addr: &str) -> Provider {
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state_dir = std::path::PathBuf::from(super::test_state_dir()).join("provider");
    let idp = DevIdp::new(
        base.clone(),
        String::new(),
        IdpSettings::default(),
        &state_dir.join("keys.json"),
    )
    .unwrap();
    let key_fetches = Arc::new(AtomicUsize::new(0));
    let counter = key_fetches.clone();
    let app = standalone_router(Arc::new(idp)).layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let counter = counter.clone();
            async move {
                if request.uri().path() == "/keys" {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                next.run(request).await
            }
        },
    ));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Provider {
        base,
        key_fetches,
        client,
    }
}

/// Signs the admin in by login_hint (scopes with offline_access) and returns the code.
pub async fn authorization_code(provider: &Provider, nonce: &str) -> String {
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
    let authorize = provider
        .client
        .get(format!("{}/oauth/authorize", provider.base))
        .query(&[
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "openid email offline_access"),
            ("nonce", nonce),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("login_hint", "admin"),
        ])
        .send()
        .await
        .unwrap();
    let location = url::Url::parse(authorize.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    code
}

/// Signs the admin in and returns the raw token response.
pub async fn login(provider: &Provider, nonce: &str) -> Value {
    let code = authorization_code(provider, nonce).await;
    provider
        .client
        .post(format!("{}/oauth/token", provider.base))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Sets test controls on the provider.
pub async fn control(provider: &Provider, pairs: &[(&str, &str)]) {
    let response = provider
        .client
        .post(format!("{}/_control", provider.base))
        .form(pairs)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
}
