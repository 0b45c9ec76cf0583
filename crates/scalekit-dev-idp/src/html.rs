//! The provider's few HTML pages: the persona picker, error and signed-out pages. Plain forms, no
//! JavaScript, every value escaped.

use axum::response::{Html, IntoResponse, Response};
use http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY};
use http::{HeaderValue, StatusCode};

use super::settings::Persona;

/// Text and attribute values for the hand-written pages.
pub fn escape(text: &str) -> String {
    html_escape::encode_quoted_attribute(text).into_owned()
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f4f8;color:#1b1f24;margin:0;padding:2rem 1rem}\
main{max-width:34rem;margin:0 auto;background:#fff;border:1px solid #d0d7de;border-radius:12px;padding:1.5rem}\
h1{font-size:1.4rem;margin:0 0 .25rem}.note{color:#57606a;margin:0 0 1.25rem}\
button{display:block;width:100%;text-align:left;font:inherit;background:#fff;border:1px solid #d0d7de;border-radius:10px;padding:.8rem 1rem;margin:.6rem 0;cursor:pointer}\
button:hover{border-color:#4338ca}button:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}\
.name{font-weight:600}.email{color:#57606a}.tag{display:inline-block;font-size:.8rem;background:#eef;border-radius:999px;padding:.1rem .5rem;margin:.3rem .3rem 0 0}\
.error{color:#b42318}.route{background:#eef;border-radius:8px;padding:.6rem .8rem}";

/// A page with a strict policy: no scripts at all; forms may post to the provider and be
/// redirected to `form_origin` (the client's redirect URI) — Chromium applies form-action to the
/// redirect after a submission.
pub(super) fn page(
    status: StatusCode,
    title: &str,
    body: &str,
    form_origin: Option<&str>,
) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} · Development identity provider</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        title = escape(title),
    );
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'{}; frame-ancestors 'none'; base-uri 'none'",
        form_origin.map(|o| format!(" {o}")).unwrap_or_default()
    );
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(CONTENT_SECURITY_POLICY, value);
    }
    response
}

pub fn error_page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<h1>Sign-in request refused</h1><p class=\"error\">{}</p><p class=\"note\">The application sent a request this development identity provider will not answer. Nothing was sent back to it.</p>",
        escape(message)
    );
    page(status, "Error", &body, None)
}

pub fn signed_out_page() -> Response {
    page(
        StatusCode::OK,
        "Signed out",
        "<h1>Signed out</h1><p class=\"note\">You are signed out of the development identity provider.</p>",
        None,
    )
}

/// The original request, carried through a form in hidden fields.
fn hidden_fields(hidden: &[(&String, &String)]) -> String {
    hidden
        .iter()
        .map(|(name, value)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(name),
                escape(value)
            )
        })
        .collect()
}

/// The persona picker: one submit button per persona, the original request in hidden fields.
pub fn picker_page(
    action: &str,
    client_id: &str,
    hidden: &[(&String, &String)],
    personas: &[&Persona],
    redirect_origin: &str,
    route_note: &str,
) -> Response {
    let fields = hidden_fields(hidden);
    let mut buttons = String::new();
    for persona in personas {
        let tags: String = persona
            .roles
            .iter()
            .map(|r| format!("<span class=\"tag\">role: {}</span>", escape(r)))
            .chain(
                persona
                    .permissions
                    .iter()
                    .map(|p| format!("<span class=\"tag\">{}</span>", escape(p))),
            )
            .collect();
        buttons.push_str(&format!(
            "<button type=\"submit\" name=\"persona\" value=\"{key}\"><span class=\"name\">{name}</span> <span class=\"email\">{email}</span><br>{tags}</button>",
            key = escape(&persona.key),
            name = escape(&persona.name),
            email = escape(&persona.email),
        ));
    }
    let route = if route_note.is_empty() {
        String::new()
    } else {
        format!(
            "<p class=\"route\" data-testid=\"route\">{}</p>",
            escape(route_note)
        )
    };
    if personas.is_empty() {
        buttons.push_str("<p class=\"error\">No one of this organization can sign in here.</p>");
    }
    let body = format!(
        "<h1>Choose who signs in</h1><p class=\"note\">Development identity provider, standing in for Scalekit. Application: <code>{client}</code>, which gets you back at <code>{origin}</code>. No password needed.</p>{route}\
<form method=\"post\" action=\"{action}\">{fields}{buttons}</form>",
        client = escape(client_id),
        origin = escape(redirect_origin),
        action = escape(action),
    );
    page(StatusCode::OK, "Sign in", &body, Some(redirect_origin))
}

/// The sign-up form (`prompt=create`): name and email, the original request in hidden fields.
pub fn signup_page(
    action: &str,
    hidden: &[(&String, &String)],
    organization: &str,
    redirect_origin: &str,
    error: Option<&str>,
) -> Response {
    let fields = hidden_fields(hidden);
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "<h1>Create your account</h1><p class=\"note\">Development identity provider, standing in for Scalekit's sign-up. You join <strong>{org}</strong> as a member. No password needed.</p>{error}\
<form method=\"post\" action=\"{action}\">{fields}<input type=\"hidden\" name=\"signup\" value=\"1\">\
<label for=\"signup-name\">Name</label><input id=\"signup-name\" name=\"name\" required maxlength=\"64\" autocomplete=\"name\" style=\"display:block;width:100%;margin:.3rem 0 .8rem\">\
<label for=\"signup-email\">Email</label><input id=\"signup-email\" name=\"email\" type=\"email\" required maxlength=\"254\" autocomplete=\"email\" style=\"display:block;width:100%;margin:.3rem 0 .8rem\">\
<button type=\"submit\">Create account</button></form>",
        org = escape(organization),
        action = escape(action),
    );
    let status = if error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    page(status, "Sign up", &body, Some(redirect_origin))
}

/// The organization picker: the persona belongs to several, and the request named none.
pub fn organization_picker_page(
    action: &str,
    hidden: &[(&String, &String)],
    persona: &Persona,
    organizations: &[(String, String)],
    redirect_origin: &str,
) -> Response {
    let fields = hidden_fields(hidden);
    let buttons: String = organizations
        .iter()
        .map(|(id, name)| {
            format!(
                "<button type=\"submit\" name=\"organization_id\" value=\"{id}\"><span class=\"name\">{name}</span> <span class=\"email\">{id}</span></button>",
                id = escape(id),
                name = escape(name),
            )
        })
        .collect();
    let body = format!(
        "<h1>Choose an organization</h1><p class=\"note\">{who} belongs to several organizations. Sign in to:</p>\
<form method=\"post\" action=\"{action}\">{fields}<input type=\"hidden\" name=\"persona\" value=\"{key}\">{buttons}</form>",
        who = escape(&persona.name),
        key = escape(&persona.key),
        action = escape(action),
    );
    page(
        StatusCode::OK,
        "Choose an organization",
        &body,
        Some(redirect_origin),
    )
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;"
        );
    }
}
