#![cfg(feature = "ssr")]

//! Hostile requests over real HTTP: oversized header blocks and cookies, forged session pieces, a
//! huge URI. Each gets a 4xx (or a clean sign-out), and the server keeps answering.

use crate::common;

use common::browser::serve_app;
use leptos_scalekit::web::header_limit::MAX_HEADER_BYTES;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn still_healthy(base: &str) {
    let health = client().get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(health.status(), 200, "the server still answers");
}

#[tokio::test]
async fn x_oversized_headers_and_cookies_get_431_and_the_server_keeps_going() {
    let app = serve_app(&[]).await;
    let bomb = format!("junk={}", "x".repeat(MAX_HEADER_BYTES));
    for path in [
        "/",
        "/dashboard",
        "/_app/session",
        "/api/v1/deployments",
        "/mcp",
    ] {
        let response = client()
            .get(format!("{}{path}", app.base))
            .header("cookie", &bomb)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 431, "{path}");
    }
    // Many small cookies adding up, and many headers.
    let many: Vec<String> = (0..4000).map(|i| format!("c{i}=v{i}")).collect();
    let response = client()
        .get(format!("{}/", app.base))
        .header("cookie", many.join("; "))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 431);
    let mut request = client().get(format!("{}/", app.base));
    for i in 0..200 {
        request = request.header(format!("x-h{i}"), "v");
    }
    let status = request.send().await.map(|r| r.status().as_u16());
    assert!(
        matches!(status, Ok(400..=499)) || status.is_err(),
        "too many headers: {status:?}"
    );
    still_healthy(&app.base).await;
}

#[tokio::test]
async fn c6_forged_session_pieces_sign_out_cleanly() {
    let app = serve_app(&[]).await;
    // Pieces beyond what the app ever writes, garbage in each: signed out, pieces cleared.
    let forged: Vec<String> = (0..8)
        .map(|i| {
            let name = if i == 0 {
                "__Host-skit_session".to_string()
            } else {
                format!("__Host-skit_session_{i}")
            };
            format!("{name}={}", "A".repeat(3000))
        })
        .collect();
    let response = client()
        .get(format!("{}/dashboard", app.base))
        .header("cookie", forged.join("; "))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302, "signed out: sent to sign in");
    assert!(response.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login"));
    let cleared = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter(|v| v.to_str().unwrap_or_default().contains("Max-Age=0"))
        .count();
    assert!(cleared >= 1, "the forged cookie is removed");
    still_healthy(&app.base).await;
}

#[tokio::test]
async fn x_a_huge_uri_is_refused_without_harm() {
    let app = serve_app(&[]).await;
    let long = format!("{}/login?next=/{}", app.base, "a".repeat(200_000));
    let status = client().get(long).send().await.map(|r| r.status().as_u16());
    assert!(
        matches!(status, Ok(400..=499)) || status.is_err(),
        "{status:?}"
    );
    still_healthy(&app.base).await;
}

#[tokio::test]
async fn slow_clients_trickling_headers_are_cut_off_and_do_not_stop_normal_requests() {
    use leptos_scalekit::web::serve::HEADER_READ_TIMEOUT;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = serve_app(&[]).await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut slow = Vec::new();
    for _ in 0..300 {
        let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        tcp.write_all(b"GET /dashboard HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        slow.push(tcp);
    }
    // Each keeps sending one byte of a header that never ends.
    let trickle = tokio::spawn(async move {
        for _ in 0..4 {
            for tcp in slow.iter_mut() {
                let _ = tcp.write_all(b"a").await;
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
        slow
    });
    let started = std::time::Instant::now();
    still_healthy(&app.base).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "a normal request waited {:?} behind the slow clients",
        started.elapsed()
    );
    let mut slow = trickle.await.unwrap();
    // The header-read timeout closes every one of them (hyper may answer 408 first).
    let deadline = HEADER_READ_TIMEOUT + std::time::Duration::from_secs(5);
    for tcp in slow.iter_mut() {
        let mut buf = [0u8; 256];
        let ended = tokio::time::timeout(deadline, async {
            loop {
                match tcp.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => continue,
                }
            }
        })
        .await;
        assert!(
            ended.is_ok(),
            "a slow connection was still open after {deadline:?}"
        );
    }
    still_healthy(&app.base).await;
}
