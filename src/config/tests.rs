//! One test per bad input: each checks that start-up would stop, naming the variable.

use std::collections::HashMap;

use super::*;

const GOOD_KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef";

fn parse(vars: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(&move |name| map.get(name).cloned())
}

fn scalekit(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut vars = vec![
        ("SCALEKIT_ENVIRONMENT_URL", "https://acme.scalekit.dev"),
        ("SCALEKIT_CLIENT_ID", "skc_1234"),
        ("SCALEKIT_CLIENT_SECRET", "test_secret_value"),
    ];
    vars.extend_from_slice(extra);
    vars
}

fn production(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut vars = scalekit(&[
        ("APP_ENV", "production"),
        ("APP_URL", "https://app.example.com"),
        ("SECRET_KEY", GOOD_KEY),
    ]);
    vars.extend_from_slice(extra);
    vars
}

/// Asserts the configuration is refused, and that `variable` is among the problems.
fn refused(vars: &[(&str, &str)], variable: &str) -> ConfigErrors {
    let errors = parse(vars).expect_err("configuration should have been refused");
    assert!(
        errors.variables().contains(&variable),
        "expected a problem with {variable}, got: {errors}"
    );
    errors
}

#[test]
fn empty_environment_uses_the_dev_idp_with_defaults() {
    let config = parse(&[]).unwrap();
    assert_eq!(config.mode, Mode::Development);
    assert_eq!(config.app_url, "http://127.0.0.1:3000");
    assert_eq!(
        config.provider,
        ProviderConfig::DevIdp {
            environment_url: "http://127.0.0.1:3000/dev-idp".into()
        }
    );
    assert_eq!(config.provider.client_id(), DEV_CLIENT_ID);
    assert_eq!(config.redirect_uri, "http://127.0.0.1:3000/auth/callback");
    assert_eq!(config.callback_path, "/auth/callback");
    assert_eq!(config.post_logout_redirect_uri, "http://127.0.0.1:3000");
    assert_eq!(
        config.scopes,
        vec!["openid", "profile", "email", "offline_access"]
    );
    assert_eq!(
        config.cookie_secret,
        CookieSecret::DevPersisted(PathBuf::from(".dev-state/cookie-secret"))
    );
    assert_eq!(config.log_filter, "info");
}

#[test]
fn scalekit_environment_is_used_when_configured_and_trailing_slash_is_removed() {
    let config = parse(&[
        ("SCALEKIT_ENVIRONMENT_URL", "https://acme.scalekit.dev/"),
        ("SCALEKIT_CLIENT_ID", "skc_1234"),
        ("SCALEKIT_CLIENT_SECRET", "test_secret_value"),
    ])
    .unwrap();
    assert!(!config.provider.is_dev_idp());
    assert_eq!(
        config.provider.environment_url(),
        "https://acme.scalekit.dev"
    );
    assert_eq!(
        config.provider.client_secret().expose(),
        "test_secret_value"
    );
}

#[test]
fn environment_url_precedence_is_environment_url_then_env_url_then_domain() {
    let all = parse(&scalekit(&[
        ("SCALEKIT_ENV_URL", "https://second.scalekit.dev"),
        ("SCALEKIT_DOMAIN", "third.scalekit.dev"),
    ]))
    .unwrap();
    assert_eq!(all.provider.environment_url(), "https://acme.scalekit.dev");

    let env_url = parse(&[
        ("SCALEKIT_ENV_URL", "https://second.scalekit.dev"),
        ("SCALEKIT_DOMAIN", "third.scalekit.dev"),
        ("SCALEKIT_CLIENT_ID", "skc_1"),
        ("SCALEKIT_CLIENT_SECRET", "s"),
    ])
    .unwrap();
    assert_eq!(
        env_url.provider.environment_url(),
        "https://second.scalekit.dev"
    );

    let domain = parse(&[
        ("SCALEKIT_DOMAIN", "third.scalekit.dev"),
        ("SCALEKIT_CLIENT_ID", "skc_1"),
        ("SCALEKIT_CLIENT_SECRET", "s"),
    ])
    .unwrap();
    assert_eq!(
        domain.provider.environment_url(),
        "https://third.scalekit.dev"
    );
}

#[test]
fn empty_values_count_as_unset() {
    let config = parse(&[
        ("SCALEKIT_ENVIRONMENT_URL", "  "),
        ("SCALEKIT_CLIENT_ID", ""),
    ])
    .unwrap();
    assert!(config.provider.is_dev_idp());
}

#[test]
fn environment_url_that_is_not_a_url_is_refused() {
    let errors = refused(
        &scalekit(&[("SCALEKIT_ENVIRONMENT_URL", "not a url")]),
        "SCALEKIT_ENVIRONMENT_URL",
    );
    let text = errors.to_string();
    assert!(
        text.contains("example: SCALEKIT_ENVIRONMENT_URL=https://"),
        "{text}"
    );
}

#[test]
fn environment_url_over_plain_http_is_refused_unless_loopback_in_development() {
    refused(
        &scalekit(&[("SCALEKIT_ENVIRONMENT_URL", "http://acme.scalekit.dev")]),
        "SCALEKIT_ENVIRONMENT_URL",
    );
    let local = parse(&scalekit(&[(
        "SCALEKIT_ENVIRONMENT_URL",
        "http://127.0.0.1:4000",
    )]))
    .unwrap();
    assert_eq!(local.provider.environment_url(), "http://127.0.0.1:4000");
    refused(
        &production(&[("SCALEKIT_ENVIRONMENT_URL", "http://127.0.0.1:4000")]),
        "SCALEKIT_ENVIRONMENT_URL",
    );
}

#[test]
fn environment_url_with_query_or_fragment_or_credentials_is_refused() {
    refused(
        &scalekit(&[("SCALEKIT_ENVIRONMENT_URL", "https://acme.scalekit.dev?x=1")]),
        "SCALEKIT_ENVIRONMENT_URL",
    );
    refused(
        &scalekit(&[("SCALEKIT_ENVIRONMENT_URL", "https://acme.scalekit.dev#x")]),
        "SCALEKIT_ENVIRONMENT_URL",
    );
    let with_password = refused(
        &scalekit(&[(
            "SCALEKIT_ENVIRONMENT_URL",
            "https://user:hunter2@acme.scalekit.dev",
        )]),
        "SCALEKIT_ENVIRONMENT_URL",
    );
    assert!(
        !with_password.to_string().contains("hunter2"),
        "E4: {with_password}"
    );
    refused(
        &scalekit(&[("SCALEKIT_ENVIRONMENT_URL", "ftp://acme.scalekit.dev")]),
        "SCALEKIT_ENVIRONMENT_URL",
    );
}

#[test]
fn bad_legacy_domain_is_reported_under_its_own_name() {
    refused(
        &[
            ("SCALEKIT_DOMAIN", "bad host"),
            ("SCALEKIT_CLIENT_ID", "skc_1"),
            ("SCALEKIT_CLIENT_SECRET", "s"),
        ],
        "SCALEKIT_DOMAIN",
    );
}

#[test]
fn missing_client_id_and_secret_are_both_reported() {
    let errors = refused(
        &[("SCALEKIT_ENVIRONMENT_URL", "https://acme.scalekit.dev")],
        "SCALEKIT_CLIENT_ID",
    );
    assert!(errors.variables().contains(&"SCALEKIT_CLIENT_SECRET"));
    assert_eq!(errors.0.len(), 2, "{errors}");
}

#[test]
fn client_credentials_without_environment_url_are_refused() {
    refused(&[("SCALEKIT_CLIENT_ID", "skc_1")], "SCALEKIT_CLIENT_ID");
    refused(&[("SCALEKIT_CLIENT_SECRET", "x")], "SCALEKIT_CLIENT_SECRET");
}

#[test]
fn production_never_uses_the_dev_idp() {
    refused(
        &[
            ("APP_ENV", "production"),
            ("APP_URL", "https://app.example.com"),
            ("SECRET_KEY", GOOD_KEY),
        ],
        "SCALEKIT_ENVIRONMENT_URL",
    );
}

#[test]
fn production_requires_a_secret_key() {
    let vars: Vec<_> = production(&[])
        .into_iter()
        .filter(|(k, _)| *k != "SECRET_KEY")
        .collect();
    refused(&vars, "SECRET_KEY");
}

#[test]
fn production_requires_https_app_url() {
    refused(
        &production(&[("APP_URL", "http://app.example.com")]),
        "APP_URL",
    );
}

#[test]
fn production_configuration_is_accepted_when_complete() {
    let config = parse(&production(&[])).unwrap();
    assert!(config.is_production());
    assert_eq!(config.redirect_uri, "https://app.example.com/auth/callback");
    assert_eq!(
        config.cookie_secret,
        CookieSecret::Configured(Secret::new(GOOD_KEY))
    );
}

#[test]
fn short_secret_key_is_refused_with_its_length() {
    let errors = refused(&[("SECRET_KEY", "short")], "SECRET_KEY");
    assert!(errors.to_string().contains("is 5 characters"), "{errors}");
    assert!(
        !errors.to_string().contains("short"),
        "the key itself must not be echoed: {errors}"
    );
}

#[test]
fn placeholder_or_repeated_secret_key_is_refused() {
    refused(
        &[("SECRET_KEY", "replace-with-output-of-openssl-rand-hex-32")],
        "SECRET_KEY",
    );
    refused(&[("SECRET_KEY", &"a".repeat(64))], "SECRET_KEY");
}

#[test]
fn bad_app_env_is_refused() {
    refused(&[("APP_ENV", "staging")], "APP_ENV");
}

#[test]
fn bad_listen_address_is_refused() {
    refused(&[("LEPTOS_SITE_ADDR", "localhost")], "LEPTOS_SITE_ADDR");
}

#[test]
fn wildcard_listen_address_defaults_app_url_to_loopback() {
    // With a Scalekit environment: on the built-in provider a wildcard address is refused.
    let config = parse(&scalekit(&[("LEPTOS_SITE_ADDR", "0.0.0.0:8080")])).unwrap();
    assert_eq!(config.app_url, "http://127.0.0.1:8080");
    assert_eq!(config.redirect_uri, "http://127.0.0.1:8080/auth/callback");
}

#[test]
fn app_url_with_a_path_is_refused() {
    refused(&[("APP_URL", "http://127.0.0.1:3000/app")], "APP_URL");
}

#[test]
fn redirect_uri_with_trailing_slash_is_refused() {
    let errors = refused(
        &[(
            "SCALEKIT_REDIRECT_URI",
            "http://127.0.0.1:3000/auth/callback/",
        )],
        "SCALEKIT_REDIRECT_URI",
    );
    assert!(errors.to_string().contains("slash"), "{errors}");
}

#[test]
fn redirect_uri_without_path_is_refused() {
    refused(
        &[("SCALEKIT_REDIRECT_URI", "http://127.0.0.1:3000")],
        "SCALEKIT_REDIRECT_URI",
    );
}

#[test]
fn redirect_uri_on_another_origin_is_refused() {
    refused(
        &[(
            "SCALEKIT_REDIRECT_URI",
            "http://localhost:3000/auth/callback",
        )],
        "SCALEKIT_REDIRECT_URI",
    );
}

#[test]
fn redirect_uri_with_a_query_or_fragment_is_refused() {
    refused(
        &[(
            "SCALEKIT_REDIRECT_URI",
            "http://127.0.0.1:3000/auth/callback?x=1",
        )],
        "SCALEKIT_REDIRECT_URI",
    );
    refused(
        &[(
            "SCALEKIT_REDIRECT_URI",
            "http://127.0.0.1:3000/auth/callback#x",
        )],
        "SCALEKIT_REDIRECT_URI",
    );
}

#[test]
fn custom_redirect_uri_sets_the_callback_path() {
    let config = parse(&[("SCALEKIT_REDIRECT_URI", "http://127.0.0.1:3000/oidc/return")]).unwrap();
    assert_eq!(config.callback_path, "/oidc/return");
}

#[test]
fn bad_post_logout_redirect_uri_is_refused() {
    refused(
        &[("SCALEKIT_POST_LOGOUT_REDIRECT_URI", "/relative")],
        "SCALEKIT_POST_LOGOUT_REDIRECT_URI",
    );
}

#[test]
fn scopes_without_openid_are_refused() {
    refused(&[("SCALEKIT_SCOPES", "profile email")], "SCALEKIT_SCOPES");
}

#[test]
fn scopes_with_invalid_characters_are_refused() {
    refused(
        &[("SCALEKIT_SCOPES", "openid \"quoted\"")],
        "SCALEKIT_SCOPES",
    );
}

#[test]
fn scopes_accept_commas_and_drop_duplicates() {
    let config = parse(&[("SCALEKIT_SCOPES", "openid,email openid")]).unwrap();
    assert_eq!(config.scopes, vec!["openid", "email"]);
}

#[test]
fn debug_true_turns_on_debug_logs_and_rust_log_wins() {
    let debug = parse(&[("DEBUG", "true")]).unwrap();
    assert!(debug.log_filter.contains("leptos_scalekit=debug"));
    let both = parse(&[("DEBUG", "true"), ("RUST_LOG", "warn")]).unwrap();
    assert_eq!(both.log_filter, "warn");
}

#[test]
fn bad_debug_and_log_values_are_refused() {
    refused(&[("DEBUG", "maybe")], "DEBUG");
    refused(&[("RUST_LOG", "info,[[[")], "RUST_LOG");
    refused(&[("LOG_FORMAT", "xml")], "LOG_FORMAT");
}

#[test]
fn every_problem_is_reported_at_once() {
    let errors = parse(&[
        ("APP_ENV", "staging"),
        ("LEPTOS_SITE_ADDR", "nope"),
        ("SECRET_KEY", "x"),
        ("DEBUG", "maybe"),
    ])
    .unwrap_err();
    assert_eq!(
        errors.variables(),
        vec!["APP_ENV", "LEPTOS_SITE_ADDR", "SECRET_KEY", "DEBUG"]
    );
}

#[test]
fn e4_describe_masks_secrets() {
    let config = parse(&production(&[])).unwrap();
    let text = format!("{:?} {:?}", config.describe(), config);
    assert!(!text.contains("test_secret_value"), "{text}");
    assert!(!text.contains(GOOD_KEY), "{text}");
}

#[test]
fn c8_session_timeouts_default_and_are_checked() {
    let config = parse(&[]).unwrap();
    assert_eq!(config.session_idle_timeout_secs, 1800);
    assert_eq!(config.session_absolute_timeout_secs, 8 * 3600);
    let set = parse(&[
        ("SESSION_IDLE_TIMEOUT_SECS", "600"),
        ("SESSION_ABSOLUTE_TIMEOUT_SECS", "3600"),
    ])
    .unwrap();
    assert_eq!(
        (
            set.session_idle_timeout_secs,
            set.session_absolute_timeout_secs
        ),
        (600, 3600)
    );
    refused(
        &[("SESSION_IDLE_TIMEOUT_SECS", "ten")],
        "SESSION_IDLE_TIMEOUT_SECS",
    );
    refused(
        &[("SESSION_ABSOLUTE_TIMEOUT_SECS", "5")],
        "SESSION_ABSOLUTE_TIMEOUT_SECS",
    );
    refused(
        &[
            ("SESSION_IDLE_TIMEOUT_SECS", "7200"),
            ("SESSION_ABSOLUTE_TIMEOUT_SECS", "3600"),
        ],
        "SESSION_IDLE_TIMEOUT_SECS",
    );
}

#[test]
fn c1_cookies_are_secure_on_https_and_loopback_only() {
    let on = |url: &'static str| {
        parse(&scalekit(&[("APP_URL", url)]))
            .unwrap()
            .cookies_secure()
    };
    assert!(on("http://127.0.0.1:3000"));
    assert!(on("http://localhost:3000"));
    assert!(on("https://app.example.com"));
    // Plain http elsewhere is refused at start-up, so cookies are always `__Host-` and Secure.
    refused(&[("APP_URL", "http://192.168.1.20:3000")], "APP_URL");
}

#[test]
fn mcp_resource_defaults_to_the_dev_providers_and_is_off_with_scalekit_unless_set() {
    assert_eq!(
        parse(&[]).unwrap().mcp_resource_id.as_deref(),
        Some(DEV_RESOURCE_ID)
    );
    assert_eq!(parse(&scalekit(&[])).unwrap().mcp_resource_id, None);
    let with_resource = parse(&scalekit(&[("SCALEKIT_RESOURCE_ID", "res_987654321")])).unwrap();
    assert_eq!(
        with_resource.mcp_resource_id.as_deref(),
        Some("res_987654321")
    );
    for bad in ["skc_123", "res_", "res_has space", "res_a/b"] {
        let errors = refused(
            &scalekit(&[("SCALEKIT_RESOURCE_ID", bad)]),
            "SCALEKIT_RESOURCE_ID",
        );
        assert!(
            errors.to_string().contains("res_1234567890123456"),
            "{errors}"
        );
    }
}

#[test]
fn the_api_and_mcp_audiences_must_differ() {
    refused(
        &scalekit(&[
            ("SCALEKIT_RESOURCE_ID", "res_123"),
            ("API_AUDIENCE", "res_123"),
        ]),
        "SCALEKIT_RESOURCE_ID",
    );
}

#[test]
fn a6_api_audience_equal_to_the_client_id_is_refused() {
    // Every signed-in user's ID and access tokens carry the client id in `aud`.
    let errors = refused(&scalekit(&[("API_AUDIENCE", "skc_1234")]), "API_AUDIENCE");
    assert!(errors.to_string().contains("client id"), "{errors}");
    refused(&[("API_AUDIENCE", DEV_CLIENT_ID)], "API_AUDIENCE");
    let distinct = parse(&scalekit(&[("API_AUDIENCE", "https://api.example.com")])).unwrap();
    assert_eq!(distinct.api_audience, "https://api.example.com");
}

#[test]
fn dev_idp_refuses_a_wildcard_or_remote_listen_address() {
    for addr in ["0.0.0.0:3000", "[::]:3000", "192.168.1.20:3000"] {
        let errors = refused(&[("LEPTOS_SITE_ADDR", addr)], "LEPTOS_SITE_ADDR");
        let text = errors.to_string();
        assert!(text.contains("DEV_IDP_ALLOW_REMOTE=true"), "{text}");
        assert!(
            text.contains("example: LEPTOS_SITE_ADDR=127.0.0.1:3000"),
            "{text}"
        );
    }
    for addr in ["127.0.0.1:3000", "127.0.0.2:3000", "[::1]:3000"] {
        let config = parse(&[("LEPTOS_SITE_ADDR", addr)]).unwrap();
        assert!(config.provider.is_dev_idp(), "{addr}");
    }
}

#[test]
fn dev_idp_refuses_an_app_url_on_a_remote_host() {
    let errors = refused(&[("APP_URL", "https://app.example.com")], "APP_URL");
    assert!(
        errors.to_string().contains("DEV_IDP_ALLOW_REMOTE=true"),
        "{errors}"
    );
    // A proxy's https origin in front of a loopback listener is still reachable from elsewhere.
    refused(
        &[
            ("LEPTOS_SITE_ADDR", "127.0.0.1:3000"),
            ("APP_URL", "https://dev.example.com"),
        ],
        "APP_URL",
    );
    for url in [
        "http://localhost:3000",
        "http://app.localhost:3000",
        "http://127.0.0.1:3000",
        "http://[::1]:3000",
    ] {
        assert!(parse(&[("APP_URL", url)]).is_ok(), "{url}");
    }
}

#[test]
fn dev_idp_allow_remote_is_the_one_opt_in_and_is_described() {
    let remote = [
        ("LEPTOS_SITE_ADDR", "0.0.0.0:3000"),
        ("APP_URL", "https://devbox.example.com"),
        ("DEV_IDP_ALLOW_REMOTE", "true"),
    ];
    let config = parse(&remote).unwrap();
    assert!(config.provider.is_dev_idp());
    assert!(config.dev_idp_allow_remote);
    let described = config.describe();
    assert!(
        described
            .iter()
            .any(|(_, value)| value.contains("DEV_IDP_ALLOW_REMOTE=true")),
        "{described:?}"
    );
    assert!(!parse(&[]).unwrap().dev_idp_allow_remote);
    refused(&[("DEV_IDP_ALLOW_REMOTE", "maybe")], "DEV_IDP_ALLOW_REMOTE");
    refused(
        &[
            ("LEPTOS_SITE_ADDR", "0.0.0.0:3000"),
            ("DEV_IDP_ALLOW_REMOTE", "false"),
        ],
        "LEPTOS_SITE_ADDR",
    );
}

#[test]
fn a_scalekit_environment_may_listen_on_every_interface() {
    let config = parse(&scalekit(&[
        ("LEPTOS_SITE_ADDR", "0.0.0.0:3000"),
        ("APP_URL", "https://app.example.com"),
    ]))
    .unwrap();
    assert!(!config.provider.is_dev_idp());
    assert!(!config.dev_idp_allow_remote);
}

#[test]
fn production_is_unaffected_and_never_takes_the_remote_opt_in() {
    let config = parse(&production(&[("LEPTOS_SITE_ADDR", "0.0.0.0:3000")])).unwrap();
    assert!(config.is_production());
    assert!(!config.dev_idp_allow_remote);
    refused(
        &production(&[("DEV_IDP_ALLOW_REMOTE", "true")]),
        "DEV_IDP_ALLOW_REMOTE",
    );
    // Without a Scalekit environment production is refused, opt-in or not.
    refused(
        &[
            ("APP_ENV", "production"),
            ("APP_URL", "https://app.example.com"),
            ("SECRET_KEY", GOOD_KEY),
            ("DEV_IDP_ALLOW_REMOTE", "true"),
        ],
        "SCALEKIT_ENVIRONMENT_URL",
    );
}

#[test]
fn app_env_is_parsed_case_insensitively() {
    assert_eq!(parse_mode("PROD"), Some(Mode::Production));
    assert_eq!(parse_mode("Production"), Some(Mode::Production));
    assert_eq!(parse_mode("dev"), Some(Mode::Development));
    assert_eq!(parse_mode("staging"), None);
}
