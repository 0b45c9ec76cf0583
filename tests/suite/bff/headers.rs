//! Security headers: the CSP nonce (H1, H6).

use crate::common::browser::{serve_app, Browser};

#[tokio::test]
async fn h1_the_csp_nonce_matches_the_hydration_scripts() {
    let app = serve_app(&[]).await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/login").await;
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    for directive in [
        "default-src 'self'",
        "'wasm-unsafe-eval'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap()
        .to_string();
    // H6: what the page shows depends on the session cookie.
    assert!(page.headers()["vary"].to_str().unwrap().contains("Cookie"));
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "{html}");
    // Nowhere else: browsers hide a nonce attribute's value from the page, not other attributes'.
    assert_eq!(
        html.matches(nonce.as_str()).count(),
        html.matches(&format!("nonce=\"{nonce}\"")).count(),
        "{html}"
    );
    let other = browser.get("/login").await;
    assert!(!other.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains(&nonce));
}
