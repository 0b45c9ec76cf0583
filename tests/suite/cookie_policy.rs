#![cfg(feature = "ssr")]

//! Checklist C12: there is no insecure-cookie switch. Every address the configuration accepts
//! for the app is one a browser treats as a secure context (https, or a loopback host over
//! http), so the cookies always carry `Secure` and the `__Host-` prefix; plain http anywhere else
//! is refused at start-up rather than served with weaker cookies.

use crate::common;

use std::collections::HashMap;

use leptos_scalekit::config::{Config, ConfigErrors};
use leptos_scalekit::dev_provider::start as start_dev_idp;
use leptos_scalekit::state::AppState;

const SECRET_KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef";

fn scalekit() -> Vec<(&'static str, &'static str)> {
    vec![
        ("SCALEKIT_ENVIRONMENT_URL", "https://acme.scalekit.dev"),
        ("SCALEKIT_CLIENT_ID", "skc_1234"),
        ("SCALEKIT_CLIENT_SECRET", "test_secret_value"),
    ]
}

fn production() -> Vec<(&'static str, &'static str)> {
    let mut vars = scalekit();
    vars.extend([("APP_ENV", "production"), ("SECRET_KEY", SECRET_KEY)]);
    vars
}

fn with(
    mut base: Vec<(&'static str, &'static str)>,
    extra: &[(&'static str, &'static str)],
) -> Vec<(&'static str, &'static str)> {
    base.extend_from_slice(extra);
    base
}

fn parse(vars: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
    let state_dir = common::test_state_dir();
    let mut map: HashMap<String, String> = HashMap::from([
        ("DEV_STATE_DIR".to_string(), state_dir),
        (
            "LEPTOS_SITE_ROOT".to_string(),
            "target/no-site-in-router-tests".to_string(),
        ),
    ]);
    map.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Config::from_lookup(&move |name| map.get(name).cloned())
}

/// Configurations the app starts with, across modes, providers and addresses.
fn accepted() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    vec![
        ("development defaults", vec![]),
        (
            "IPv6 loopback listen address",
            vec![("LEPTOS_SITE_ADDR", "[::1]:3000")],
        ),
        ("127.0.0.1", vec![("APP_URL", "http://127.0.0.1:3000")]),
        (
            "another 127/8 address",
            vec![("APP_URL", "http://127.0.0.2:3000")],
        ),
        ("localhost", vec![("APP_URL", "http://localhost:3000")]),
        ("[::1]", vec![("APP_URL", "http://[::1]:3000")]),
        // Loopback by name, and a secure context to browsers (this one once got insecure cookies).
        (
            "a *.localhost name",
            vec![("APP_URL", "http://app.localhost:3000")],
        ),
        (
            "a wildcard listen address on a development box",
            vec![
                ("DEV_IDP_ALLOW_REMOTE", "true"),
                ("LEPTOS_SITE_ADDR", "0.0.0.0:3000"),
            ],
        ),
        (
            "https on a development box",
            vec![
                ("DEV_IDP_ALLOW_REMOTE", "true"),
                ("APP_URL", "https://dev.example.com"),
            ],
        ),
        (
            "Scalekit in development on loopback",
            with(scalekit(), &[("APP_URL", "http://localhost:3000")]),
        ),
        (
            "Scalekit in development over https",
            with(scalekit(), &[("APP_URL", "https://dev.example.com")]),
        ),
        (
            "production",
            with(production(), &[("APP_URL", "https://app.example.com")]),
        ),
    ]
}

#[tokio::test]
async fn c12_every_accepted_app_url_gets_secure_host_prefixed_cookies() {
    check_secure_cookies(accepted()).await;
}

async fn check_secure_cookies(cases: Vec<(&'static str, Vec<(&'static str, &'static str)>)>) {
    for (what, vars) in cases {
        let config = match parse(&vars) {
            Ok(config) => config,
            Err(errors) => panic!("{what}: expected to start, got {errors}"),
        };
        let app_url = config.app_url.clone();
        assert!(
            config.cookies_secure(),
            "{what}: {app_url} would get cookies without Secure and __Host-"
        );
        // The setting the running app uses comes from there: nothing else can turn it off.
        let idp = start_dev_idp(&config).expect("dev identity provider starts");
        let state = AppState::new(config, tower_cookies::Key::generate(), idp).expect("state");
        let cookies = state.auth.cookie_settings();
        assert!(cookies.secure, "{what}: {app_url}");
        assert_eq!(cookies.session_name(), "__Host-skit_session", "{what}");
        assert_eq!(cookies.transaction_name(), "__Host-skit_signin", "{what}");
    }
}

#[test]
fn c12_plain_http_off_loopback_is_refused_not_served_with_weaker_cookies() {
    let refused: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "a LAN address with the development provider",
            vec![("APP_URL", "http://192.168.1.10:3000")],
        ),
        (
            "a LAN address even with DEV_IDP_ALLOW_REMOTE",
            vec![
                ("DEV_IDP_ALLOW_REMOTE", "true"),
                ("APP_URL", "http://192.168.1.10:3000"),
            ],
        ),
        (
            "a public name with the development provider allowed remote",
            vec![
                ("DEV_IDP_ALLOW_REMOTE", "true"),
                ("APP_URL", "http://dev.example.com"),
            ],
        ),
        (
            "Scalekit in development over plain http",
            with(scalekit(), &[("APP_URL", "http://app.example.com")]),
        ),
        (
            "production over plain http",
            with(production(), &[("APP_URL", "http://app.example.com")]),
        ),
        (
            "production over plain http even on loopback",
            with(production(), &[("APP_URL", "http://127.0.0.1:3000")]),
        ),
    ];
    for (what, vars) in refused {
        match parse(&vars) {
            Ok(config) => panic!(
                "{what}: started with APP_URL {} (secure cookies: {})",
                config.app_url,
                config.cookies_secure()
            ),
            Err(errors) => assert!(
                errors.variables().contains(&"APP_URL"),
                "{what}: refused, but not for APP_URL: {errors}"
            ),
        }
    }
}
