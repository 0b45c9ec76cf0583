#![cfg(feature = "ssr")]

//! Router-level tests: the whole app in-process, one request at a time.

use crate::common;

use axum::body::Body;
use common::{body_text, dev_app, get, send};
use http::{Request, StatusCode};

#[tokio::test]
async fn health_answers_json_and_is_not_cached() {
    let response = get(dev_app(), "/health").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: serde_json::Value = serde_json::from_str(&body_text(response).await).unwrap();
    assert_eq!(body["status"], "healthy");
}

#[tokio::test]
async fn unknown_path_renders_the_not_found_page_with_404() {
    let response = get(dev_app(), "/no/such/page").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let html = body_text(response).await;
    assert!(html.contains("Page not found"), "{html}");
    assert!(html.contains("Go to the home page"));
}

#[tokio::test]
async fn home_and_about_render_on_the_server() {
    let home = get(dev_app(), "/").await;
    assert_eq!(home.status(), StatusCode::OK);
    let html = body_text(home).await;
    assert!(html.contains("Enterprise sign-in for Leptos"), "{html}");
    // The provider banner is rendered on the server, so it shows with JavaScript off too.
    assert!(
        html.contains("built-in development identity provider"),
        "{html}"
    );

    // The browser reads the same URL back from <body> before hydrating (site_info.rs).
    assert!(
        html.contains(r#"<body data-dev-provider="http://"#),
        "{html}"
    );
    // The navigation marks the page shown, and only it.
    assert!(
        html.contains(r#"<a href="/" aria-current="page">Home<"#),
        "{html}"
    );
    assert!(html.contains(r#"<a href="/about">How it works<"#), "{html}");

    let about = get(dev_app(), "/about").await;
    assert_eq!(about.status(), StatusCode::OK);
    let html = body_text(about).await;
    assert!(html.contains("How it works"));
    assert!(
        html.contains(r#"<a href="/about" aria-current="page">How it works<"#),
        "{html}"
    );
    assert!(html.contains(r#"<a href="/">Home<"#), "{html}");
}

#[tokio::test]
async fn with_scalekit_configured_no_page_shows_the_development_banner() {
    let app = common::app_from(&[
        ("SCALEKIT_ENVIRONMENT_URL", "https://acme.scalekit.dev"),
        ("SCALEKIT_CLIENT_ID", "skc_1"),
        ("SCALEKIT_CLIENT_SECRET", "secret"),
    ]);
    let html = body_text(get(app, "/").await).await;
    assert!(html.contains("Enterprise sign-in for Leptos"), "{html}");
    assert!(!html.contains("dev-banner"), "{html}");
    assert!(!html.contains("data-dev-provider"), "{html}");
}

#[tokio::test]
async fn h5_security_headers_are_on_pages_and_errors() {
    for path in ["/", "/health", "/no/such/page"] {
        let response = get(dev_app(), path).await;
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert!(
            headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert_eq!(
            headers["referrer-policy"], "strict-origin-when-cross-origin",
            "{path}"
        );
        assert_eq!(
            headers["cross-origin-opener-policy"], "same-origin",
            "{path}"
        );
        // Development over http: no HSTS.
        assert!(!headers.contains_key("strict-transport-security"), "{path}");
    }
    // H7: the size limit's refusals too.
    let long = format!("/{}", "a".repeat(9000));
    let oversized = [
        Request::get(long.as_str()).body(Body::empty()).unwrap(),
        Request::get("/")
            .header("cookie", "x".repeat(40_000))
            .body(Body::empty())
            .unwrap(),
    ];
    for request in oversized {
        let response = send(dev_app(), request).await;
        assert!(
            matches!(response.status().as_u16(), 414 | 431),
            "{}",
            response.status()
        );
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        assert!(response.headers().contains_key("content-security-policy"));
    }
}

#[tokio::test]
async fn pages_are_not_stored_by_caches() {
    let response = get(dev_app(), "/").await;
    assert_eq!(response.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn every_response_gets_a_fresh_request_id_even_if_the_client_sent_one() {
    let request = Request::get("/health")
        .header("x-request-id", "chosen-by-client")
        .body(Body::empty())
        .unwrap();
    let response = send(dev_app(), request).await;
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_ne!(id, "chosen-by-client");
    assert_eq!(id.len(), 32, "a simple-format uuid: {id}");
    let again = get(dev_app(), "/health").await;
    assert_ne!(again.headers()["x-request-id"].to_str().unwrap(), id);
}

#[tokio::test]
async fn static_files_are_served_with_cache_headers() {
    let dir = std::env::temp_dir().join(format!("leptos-scalekit-static-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("pkg")).unwrap();
    std::fs::write(dir.join("pkg/app.js"), "console.log(1)").unwrap();
    std::fs::write(dir.join("favicon.svg"), "<svg/>").unwrap();
    let app = common::app_from(&[("LEPTOS_SITE_ROOT", dir.to_str().unwrap())]);

    let js = get(app.clone(), "/pkg/app.js").await;
    assert_eq!(js.status(), StatusCode::OK);
    assert_eq!(js.headers()["cache-control"], "no-cache");
    assert_eq!(
        js.headers()["x-content-type-options"],
        "nosniff",
        "H7: static files get the security headers"
    );

    let icon = get(app.clone(), "/favicon.svg").await;
    assert_eq!(icon.status(), StatusCode::OK);
    assert_eq!(icon.headers()["cache-control"], "public, max-age=86400");

    let missing = get(app, "/pkg/missing.js").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn precompressed_copies_go_only_to_browsers_that_accept_them() {
    // Release builds ship `.br` and `.gz` copies next to each site file (cargo leptos --precompress).
    let dir = std::env::temp_dir().join(format!(
        "leptos-scalekit-precompressed-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(dir.join("pkg")).unwrap();
    std::fs::write(dir.join("pkg/app.wasm"), "raw module").unwrap();
    std::fs::write(dir.join("pkg/app.wasm.br"), "brotli copy").unwrap();
    std::fs::write(dir.join("pkg/app.wasm.gz"), "gzip copy").unwrap();
    let app = common::app_from(&[("LEPTOS_SITE_ROOT", dir.to_str().unwrap())]);
    let fetch = |encoding: Option<&'static str>| {
        let app = app.clone();
        async move {
            let mut request = Request::get("/pkg/app.wasm");
            if let Some(encoding) = encoding {
                request = request.header("accept-encoding", encoding);
            }
            send(app, request.body(Body::empty()).unwrap()).await
        }
    };

    let brotli = fetch(Some("gzip, deflate, br")).await;
    assert_eq!(brotli.status(), StatusCode::OK);
    assert_eq!(brotli.headers()["content-encoding"], "br");
    assert_eq!(brotli.headers()["content-type"], "application/wasm");
    assert_eq!(brotli.headers()["vary"], "accept-encoding");
    assert_eq!(body_text(brotli).await, "brotli copy");

    let gzip = fetch(Some("gzip")).await;
    assert_eq!(gzip.headers()["content-encoding"], "gzip");
    assert_eq!(body_text(gzip).await, "gzip copy");

    for encoding in [None, Some("identity"), Some("br;q=0, gzip;q=0")] {
        let plain = fetch(encoding).await;
        assert_eq!(plain.status(), StatusCode::OK, "{encoding:?}");
        assert!(
            plain.headers().get("content-encoding").is_none(),
            "{encoding:?}"
        );
        assert_eq!(plain.headers()["vary"], "accept-encoding");
        assert_eq!(body_text(plain).await, "raw module", "{encoding:?}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn production_adds_hsts() {
    let app = common::app_from(&[
        ("APP_ENV", "production"),
        ("APP_URL", "https://app.example.com"),
        ("SECRET_KEY", "0123456789abcdef0123456789abcdef0123"),
        ("SCALEKIT_ENVIRONMENT_URL", "https://acme.scalekit.dev"),
        ("SCALEKIT_CLIENT_ID", "skc_1"),
        ("SCALEKIT_CLIENT_SECRET", "secret"),
    ]);
    let response = get(app, "/health").await;
    assert!(response.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .starts_with("max-age="));
}

/// Pages render whole (`SsrMode::Async`), so they go out as one body with its length rather than
/// a chunked stream, with the page's title in its head once and its hydration data after the
/// page, in scripts carrying the response's nonce.
#[tokio::test]
async fn a_page_is_sent_whole_with_its_length_title_and_data() {
    let response = get(dev_app(), "/about").await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert!(headers.get("transfer-encoding").is_none());
    let length: usize = headers["content-length"].to_str().unwrap().parse().unwrap();
    let html = body_text(response).await;
    assert_eq!(html.len(), length);
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");

    let head = &html[..html.find("</head>").unwrap()];
    assert!(
        head.contains("<!--HEAD--><title>How it works · Leptos × Scalekit</title>"),
        "{head}"
    );
    assert_eq!(html.matches("<title>").count(), 1, "{html}");

    let csp = headers["content-security-policy"].to_str().unwrap();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap();
    let data = format!("<script nonce=\"{nonce}\">__RESOLVED_RESOURCES=[");
    let at = html.find(&data).expect("the hydration data");
    assert!(at > html.find("</body>").unwrap(), "{html}");
    assert!(html.ends_with("</script>"), "{html}");
}
