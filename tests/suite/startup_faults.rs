#![cfg(feature = "ssr")]

//! Start-up with the provider unreachable (discovery and JWKS down): the app starts and serves
//! what needs no provider, answers 503 where keys are needed instead of failing open or
//! panicking, and recovers by itself once the provider is back.

use crate::common;

use std::time::{Duration, Instant};

use common::browser::{api_token_from, serve_app};
use common::provider::{start_provider_on, CLIENT_ID, CLIENT_SECRET};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e5_a7_the_app_starts_with_the_provider_down_and_recovers_when_it_returns() {
    // An address nothing listens on yet: the provider is "down" at start-up.
    let reserved = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let provider_addr = reserved.local_addr().unwrap().to_string();
    drop(reserved);
    let environment = format!("http://{provider_addr}");
    let app = serve_app(&[
        ("SCALEKIT_ENVIRONMENT_URL", environment.as_str()),
        ("SCALEKIT_CLIENT_ID", CLIENT_ID),
        ("SCALEKIT_CLIENT_SECRET", CLIENT_SECRET),
    ])
    .await;
    let http = client();

    let health = http
        .get(format!("{}/health", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let home = http
        .get(format!("{}/", app.base))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(
        home.status(),
        200,
        "pages that need no provider still render"
    );

    // A token cannot be checked without the keys: 503 with Retry-After, never a pass.
    let forged = "eyJhbGciOiJSUzI1NiIsImtpZCI6InNua18xIn0.eyJzdWIiOiJ4In0.c2ln";
    let api = http
        .get(format!("{}/api/v1/deployments", app.base))
        .bearer_auth(forged)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 503);
    assert!(api.headers().contains_key("retry-after"));

    // The provider comes back on its address; the app notices by itself.
    let provider = start_provider_on(&provider_addr).await;
    let token = api_token_from(
        &provider.base,
        "org_100000000000000001",
        &["read:deployments"],
        &app.base,
    )
    .await;
    let started = Instant::now();
    let mut last = 0;
    while started.elapsed() < Duration::from_secs(40) {
        last = http
            .get(format!("{}/api/v1/deployments", app.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        if last == 200 {
            break;
        }
        assert_eq!(
            last, 503,
            "only 'try again' while the keys are still unknown"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(last, 200, "recovered once the provider answered");
    let forged_again = http
        .get(format!("{}/api/v1/deployments", app.base))
        .bearer_auth(forged)
        .send()
        .await
        .unwrap();
    assert_eq!(
        forged_again.status(),
        401,
        "with keys, a forged token is refused"
    );
}
