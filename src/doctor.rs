//! `leptos-scalekit doctor`: prints the effective configuration (secrets masked) and checks that the
//! Scalekit environment is reachable and accepts this app's credentials. Exits non-zero when any
//! check fails, with one actionable line per failure.

use std::process::ExitCode;

use serde::Deserialize;

use crate::config::{Config, ProviderConfig};
use scalekit_auth::protocol::{error_chain, provider_http_client_trusting};
use scalekit_auth::protocol::{fetch_jwks, fetch_provider_metadata, ProviderMetadata};

/// The outcome of one check.
#[derive(Debug, PartialEq, Eq)]
pub enum Check {
    Pass(String),
    Warn(String),
    Fail(String),
}

impl Check {
    fn line(&self) -> String {
        match self {
            Check::Pass(text) => format!("  ok    {text}"),
            Check::Warn(text) => format!("  warn  {text}"),
            Check::Fail(text) => format!("  FAIL  {text}"),
        }
    }
}

pub async fn run() -> ExitCode {
    println!("leptos-scalekit doctor\n");
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(errors) => {
            println!(
                "Configuration\n  FAIL  {}",
                errors.to_string().trim_end().replace('\n', "\n        ")
            );
            return ExitCode::FAILURE;
        }
    };
    println!("Configuration");
    for (name, value) in config.describe() {
        println!("  {name:<26} {value}");
    }
    println!("\nChecks");
    let checks = run_checks(&config).await;
    for check in &checks {
        println!("{}", check.line());
    }
    let failures = checks
        .iter()
        .filter(|c| matches!(c, Check::Fail(_)))
        .count();
    if failures > 0 {
        println!("\n{failures} check(s) failed.");
        ExitCode::FAILURE
    } else {
        println!("\nAll checks passed.");
        ExitCode::SUCCESS
    }
}

/// Every check, in order. Network checks run only against a configured Scalekit environment.
pub async fn run_checks(config: &Config) -> Vec<Check> {
    let mut checks = vec![Check::Pass("configuration is valid".into())];
    checks.extend(redirect_uri_checks(config));
    if !config.scopes.iter().any(|s| s == "offline_access") {
        checks.push(Check::Warn(
            "SCALEKIT_SCOPES lacks offline_access: no refresh token will be issued, so sessions end when the access token expires".into(),
        ));
    }
    match &config.provider {
        ProviderConfig::DevIdp { environment_url } => checks.push(Check::Warn(format!(
            "no Scalekit environment configured: the app uses its built-in development identity provider at {environment_url}; set SCALEKIT_ENVIRONMENT_URL, SCALEKIT_CLIENT_ID and SCALEKIT_CLIENT_SECRET to check a real environment"
        ))),
        ProviderConfig::Scalekit { .. } => checks.extend(provider_checks(config).await),
    }
    checks
}

fn redirect_uri_checks(config: &Config) -> Vec<Check> {
    // The configuration parser already refused a bad scheme, a missing path, a trailing slash and
    // another origin; here we say what was checked and what to register.
    vec![
        Check::Pass(format!(
            "redirect URI {} uses {}, has no trailing slash, and its path {} is the callback this app serves",
            config.redirect_uri,
            config.redirect_uri.split(':').next().unwrap_or("https"),
            config.callback_path
        )),
        Check::Pass(format!(
            "register exactly {} as a Redirect URL and {} as a Post Logout URL in the Scalekit dashboard",
            config.redirect_uri, config.post_logout_redirect_uri
        )),
    ]
}

async fn provider_checks(config: &Config) -> Vec<Check> {
    let environment_url = config.provider.environment_url();
    let client = match provider_http_client_trusting(&config.provider_roots) {
        Ok(client) => client,
        Err(e) => {
            return vec![Check::Fail(format!(
                "could not create an HTTP client: {}",
                error_chain(&e)
            ))]
        }
    };
    let mut checks = Vec::new();
    let metadata = match fetch_provider_metadata(&client, environment_url).await {
        Ok(metadata) => {
            checks.push(Check::Pass(format!(
                "discovery document at {}",
                ProviderMetadata::discovery_url(environment_url)
            )));
            let problems = metadata.problems(environment_url);
            if problems.is_empty() {
                checks.push(Check::Pass(format!(
                    "issuer is {environment_url} and endpoints are well formed"
                )));
            }
            checks.extend(problems.into_iter().map(Check::Fail));
            metadata
        }
        Err(e) if e.is_unreachable() => {
            checks.push(Check::Fail(format!(
                "{e}. Check the environment URL, your network and proxy settings"
            )));
            return checks;
        }
        Err(e) => {
            checks.push(Check::Fail(format!(
                "{e}. Is {environment_url} your Scalekit environment URL (Dashboard > Developers > Settings)?"
            )));
            return checks;
        }
    };

    match fetch_jwks(&client, &metadata.jwks_uri).await {
        Ok(jwks) => {
            let usable: Vec<&str> = jwks
                .keys
                .iter()
                .filter(|k| matches!(k.algorithm, jsonwebtoken::jwk::AlgorithmParameters::RSA(_)))
                .filter_map(|k| k.common.key_id.as_deref())
                .collect();
            if usable.is_empty() {
                checks.push(Check::Fail(format!(
                    "{} has no RSA signing key with a kid: ID tokens could not be verified",
                    metadata.jwks_uri
                )));
            } else {
                checks.push(Check::Pass(format!(
                    "JWKS at {} has {} RSA signing key(s): {}",
                    metadata.jwks_uri,
                    usable.len(),
                    usable.join(", ")
                )));
            }
        }
        Err(e) => checks.push(Check::Fail(format!("{e}: ID tokens could not be verified"))),
    }

    checks.push(client_credentials_check(&client, config, &metadata.token_endpoint).await);
    checks.push(match &config.mcp_resource_id {
        Some(resource_id) => mcp_resource_check(&client, environment_url, resource_id).await,
        None => Check::Warn(
            "SCALEKIT_RESOURCE_ID is not set: /mcp is off (register an MCP server in the Scalekit dashboard to turn it on)".into(),
        ),
    });
    checks
}

/// The resource's authorization-server metadata, which MCP clients are sent to: it must exist,
/// name the resource's issuer, and offer dynamic registration for clients to sign up.
async fn mcp_resource_check(
    client: &reqwest::Client,
    environment_url: &str,
    resource_id: &str,
) -> Check {
    let url =
        format!("{environment_url}/.well-known/oauth-authorization-server/resources/{resource_id}");
    let response = match client.get(&url).send().await {
        Ok(response) => response,
        Err(e) => return Check::Fail(format!("could not reach {url}: {}", error_chain(&e))),
    };
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return Check::Fail(format!(
            "the environment does not know resource {resource_id} ({url} answered 404): check SCALEKIT_RESOURCE_ID against Dashboard > MCP servers"
        ));
    }
    if !response.status().is_success() {
        return Check::Fail(format!("{url} answered HTTP {}", response.status()));
    }
    let Ok(metadata) = response.json::<serde_json::Value>().await else {
        return Check::Fail(format!("{url} did not answer JSON"));
    };
    let issuer = metadata["issuer"].as_str().unwrap_or_default();
    let accepted = [
        environment_url.to_string(),
        format!("{environment_url}/resources/{resource_id}"),
    ];
    if !accepted.iter().any(|a| a == issuer) {
        return Check::Fail(format!(
            "{url} names issuer `{issuer}`; expected one of {}",
            accepted.join(", ")
        ));
    }
    if metadata["registration_endpoint"].as_str().is_none() {
        return Check::Warn(format!(
            "MCP resource {resource_id} found, but it offers no dynamic client registration: MCP clients must be registered by hand"
        ));
    }
    Check::Pass(format!(
        "MCP resource {resource_id}: authorization server {issuer} with dynamic client registration"
    ))
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    error: Option<String>,
}

/// Asks the token endpoint for a client_credentials token: the cheapest proof that the client id
/// and secret are right (Scalekit's own SDKs do this at start-up).
async fn client_credentials_check(
    client: &reqwest::Client,
    config: &Config,
    token_endpoint: &str,
) -> Check {
    let secret = config.provider.client_secret();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", config.provider.client_id()),
        ("client_secret", secret.expose()),
    ];
    let response = match client.post(token_endpoint).form(&form).send().await {
        Ok(response) => response,
        Err(e) => {
            return Check::Fail(format!(
                "could not reach the token endpoint {token_endpoint}: {}",
                error_chain(&e)
            ))
        }
    };
    let status = response.status();
    let answer: Option<TokenAnswer> = response.json().await.ok();
    match (status.as_u16(), answer) {
        (200, Some(TokenAnswer { access_token: Some(_), .. })) => {
            Check::Pass("the token endpoint accepted SCALEKIT_CLIENT_ID and SCALEKIT_CLIENT_SECRET".into())
        }
        (_, Some(TokenAnswer { error: Some(code), .. })) if code == "invalid_client" => Check::Fail(
            "the token endpoint rejected SCALEKIT_CLIENT_ID / SCALEKIT_CLIENT_SECRET (invalid_client): copy both again from Dashboard > Developers > API credentials".into(),
        ),
        (status, Some(TokenAnswer { error: Some(code), .. })) => Check::Fail(format!(
            "the token endpoint answered HTTP {status} with error `{code}` for a client_credentials request"
        )),
        (status, _) => Check::Fail(format!(
            "the token endpoint {token_endpoint} answered HTTP {status} without a token"
        )),
    }
}
