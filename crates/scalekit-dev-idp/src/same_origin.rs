//! The provider's forms (persona picker, consent) and test controls refuse posts from other
//! sites' pages, which could otherwise sign a visitor in as a persona or change the controls.
//! Tools (curl, SDKs, test clients) post too and send no browser signals, so a post carrying
//! neither `Sec-Fetch-Site` nor `Origin` is let through: browsers send `Origin` on every
//! cross-origin POST, and current ones `Sec-Fetch-Site` on every request.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::{HeaderMap, Method, StatusCode};

/// The provider's origin as browsers write it (`http://127.0.0.1:3000`).
#[derive(Clone, Debug)]
pub struct AppOrigin(pub String);

/// Why a post is refused, or None when it may go on.
fn refusal(method: &Method, headers: &HeaderMap, origin: &str) -> Option<&'static str> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match (text("sec-fetch-site"), text("origin")) {
        (Some("same-origin"), _) => None,
        (Some(_), _) => Some("Sec-Fetch-Site is not same-origin"),
        (None, Some(sender)) if sender != origin => Some("Origin is another site"),
        (None, _) => None,
    }
}

pub async fn cross_site_guard(
    State(AppOrigin(origin)): State<AppOrigin>,
    request: Request,
    next: Next,
) -> Response {
    let Some(reason) = refusal(request.method(), request.headers(), &origin) else {
        return next.run(request).await;
    };
    tracing::warn!(reason, path = %request.uri().path(), "cross-site post to the development provider refused");
    let body = serde_json::json!({
        "error": "forbidden",
        "error_description": "cross-site request refused"
    });
    (StatusCode::FORBIDDEN, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "http://127.0.0.1:3000";

    fn refused(method: Method, pairs: &[(&'static str, &'static str)]) -> bool {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, http::HeaderValue::from_static(value));
        }
        refusal(&method, &headers, ORIGIN).is_some()
    }

    #[test]
    fn x2_cross_site_posts_are_refused_and_tools_let_through() {
        assert!(refused(Method::POST, &[("sec-fetch-site", "cross-site")]));
        assert!(refused(Method::POST, &[("sec-fetch-site", "same-site")]));
        assert!(refused(Method::POST, &[("origin", "https://evil.example")]));
        assert!(!refused(Method::POST, &[("sec-fetch-site", "same-origin")]));
        assert!(!refused(Method::POST, &[("origin", ORIGIN)]));
        assert!(!refused(Method::POST, &[]), "curl and SDKs send neither");
        assert!(!refused(Method::GET, &[("sec-fetch-site", "cross-site")]));
    }
}
