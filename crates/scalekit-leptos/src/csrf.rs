//! Cross-site request forgery defence for everything that changes state with a cookie: server
//! functions (login and logout included) and form posts (checklist X2–X4). The browser's
//! `Sec-Fetch-Site` decides when present; otherwise `Origin`, then `Referer`, must be this app's
//! origin; with none of them the request is refused (fail closed). SameSite=Lax cookies stay as a
//! second line of defence (X6). Applied by the request guard (`request_guard`).

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::header::{ORIGIN, REFERER};
use http::{HeaderMap, Method, StatusCode};

/// This app's origin as browsers write it (`https://app.example.com`).
#[derive(Clone, Debug)]
pub struct AppOrigin(pub String);

/// Why a request was refused, for the log.
#[derive(Debug, PartialEq, Eq)]
pub enum CsrfVerdict {
    /// From the app's own pages, or a safe method.
    Allowed,
    /// Refused, with why.
    Refused(&'static str),
}

/// Whether a request with `method` and `headers` may go on, for an app at `origin`.
pub fn judge(method: &Method, headers: &HeaderMap, origin: &str) -> CsrfVerdict {
    if is_safe(method) {
        return CsrfVerdict::Allowed;
    }
    if let Some(verdict) = judge_browser_signals(headers, origin) {
        return verdict;
    }
    if let Some(referer) = header(headers, REFERER) {
        let same = url::Url::parse(referer)
            .map(|url| url.origin().ascii_serialization() == origin)
            .unwrap_or(false);
        return if same {
            CsrfVerdict::Allowed
        } else {
            CsrfVerdict::Refused("Referer is another site")
        };
    }
    CsrfVerdict::Refused("no Sec-Fetch-Site, Origin or Referer")
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn header(headers: &HeaderMap, name: http::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The verdict of the headers only browsers send, `Sec-Fetch-Site` first; None without either.
fn judge_browser_signals(headers: &HeaderMap, origin: &str) -> Option<CsrfVerdict> {
    if let Some(site) = header(headers, http::HeaderName::from_static("sec-fetch-site")) {
        return Some(match site {
            "same-origin" => CsrfVerdict::Allowed,
            _ => CsrfVerdict::Refused("Sec-Fetch-Site is not same-origin"),
        });
    }
    header(headers, ORIGIN).map(|sender| {
        if sender == origin {
            CsrfVerdict::Allowed
        } else {
            CsrfVerdict::Refused("Origin is another site")
        }
    })
}

/// 403 with a JSON error, logged with the reason.
pub(crate) fn refuse(reason: &'static str, request: &Request) -> Response {
    tracing::warn!(reason, path = %request.uri().path(), "cross-site request refused");
    let body = serde_json::json!({
        "error": "forbidden",
        "error_description": "cross-site request refused"
    });
    (StatusCode::FORBIDDEN, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    const ORIGIN_URL: &str = "https://app.example.com";

    fn verdict(method: Method, headers: &[(&'static str, &'static str)]) -> CsrfVerdict {
        judge(&method, &header_map(headers), ORIGIN_URL)
    }

    fn header_map(headers: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn x2_x3_table() {
        use CsrfVerdict::Allowed;
        type Case = (Method, Vec<(&'static str, &'static str)>, bool);
        let cases: Vec<Case> = vec![
            (Method::GET, vec![], true),
            (Method::POST, vec![("sec-fetch-site", "same-origin")], true),
            (Method::POST, vec![("sec-fetch-site", "cross-site")], false),
            (Method::POST, vec![("sec-fetch-site", "same-site")], false),
            (Method::POST, vec![("sec-fetch-site", "none")], false),
            // Fetch metadata decides even when Origin looks right.
            (
                Method::POST,
                vec![("sec-fetch-site", "cross-site"), ("origin", ORIGIN_URL)],
                false,
            ),
            (Method::POST, vec![("origin", ORIGIN_URL)], true),
            (
                Method::POST,
                vec![("origin", "https://evil.example")],
                false,
            ),
            (Method::POST, vec![("origin", "null")], false),
            (
                Method::POST,
                vec![("referer", "https://app.example.com/login")],
                true,
            ),
            (
                Method::POST,
                vec![("referer", "https://app.example.com.evil.example/")],
                false,
            ),
            (Method::POST, vec![], false),
            (Method::DELETE, vec![], false),
        ];
        for (method, headers, allowed) in cases {
            let v = verdict(method.clone(), &headers);
            assert_eq!(v == Allowed, allowed, "{method} {headers:?} → {v:?}");
        }
    }
}
