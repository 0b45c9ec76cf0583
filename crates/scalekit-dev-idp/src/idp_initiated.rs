//! IdP-initiated login, as an enterprise identity provider's dashboard starts it through Scalekit:
//! `GET /idp-initiated` lists, per persona, the registered apps with an initiate-login URL; the
//! form's POST sends the browser there with `?idp_initiated_login=<JWT>`, signed with the
//! environment's keys, carrying what Scalekit's SDKs read (`connection_id`, `organization_id`,
//! `login_hint`, `relay_state`) and living five minutes. The app then starts an ordinary sign-in
//! with those hints, which this provider answers as any other.

use std::sync::Arc;

use axum::extract::{Form, State};
use axum::response::{IntoResponse, Response};
use http::header::LOCATION;
use http::{HeaderValue, StatusCode};
use serde::Deserialize;
use serde_json::json;

use super::connections::PICKER_CONNECTION_ID;
use super::html::{error_page, escape, page};
use super::{now, scalekit_id, DevIdp};

/// How long a token lives (Scalekit's: about five minutes).
pub const TOKEN_TTL: u64 = 300;

/// `GET /idp-initiated`: one form per persona and app.
pub async fn show(State(idp): State<Arc<DevIdp>>) -> Response {
    let apps: Vec<(String, String)> = idp
        .settings
        .clients
        .iter()
        .filter_map(|c| Some((c.client_id.clone(), c.initiate_login_uri.clone()?)))
        .collect();
    let mut body = String::from(
        "<h1>Start from the identity provider</h1><p class=\"note\">What an employee's IdP dashboard does: pick who you are and the app, and the app receives an IdP-initiated login it turns into an ordinary sign-in.</p>",
    );
    if apps.is_empty() {
        body.push_str("<p class=\"error\">No client has an initiate-login URL.</p>");
    }
    let action = escape(&idp.url("/idp-initiated"));
    for persona in idp.personas() {
        for (client_id, uri) in &apps {
            body.push_str(&format!(
                "<form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"persona\" value=\"{key}\"><input type=\"hidden\" name=\"client_id\" value=\"{client}\">\
<label for=\"relay-{key}-{client}\">Land on (relay state, optional)</label> <input id=\"relay-{key}-{client}\" name=\"relay_state\" maxlength=\"512\" placeholder=\"/dashboard\">\
<button type=\"submit\"><span class=\"name\">{name}</span> <span class=\"email\">{email}</span><br><span class=\"tag\">into {uri}</span></button></form>",
                key = escape(&persona.key),
                client = escape(client_id),
                name = escape(&persona.name),
                email = escape(&persona.email),
                uri = escape(uri),
            ));
        }
    }
    let origins: Vec<String> = apps
        .iter()
        .filter_map(|(_, uri)| url::Url::parse(uri).ok())
        .map(|u| u.origin().ascii_serialization())
        .collect();
    page(
        StatusCode::OK,
        "IdP-initiated login",
        &body,
        Some(&origins.join(" ")),
    )
}

#[derive(Deserialize)]
pub struct StartForm {
    persona: String,
    client_id: String,
    #[serde(default)]
    relay_state: String,
}

/// `POST /idp-initiated`: signs the token and sends the browser to the app.
pub async fn start(State(idp): State<Arc<DevIdp>>, Form(form): Form<StartForm>) -> Response {
    let Some(persona) = idp.persona(&form.persona) else {
        return error_page(StatusCode::BAD_REQUEST, "unknown persona");
    };
    let Some(uri) = idp
        .settings
        .clients
        .iter()
        .find(|c| c.client_id == form.client_id)
        .and_then(|c| c.initiate_login_uri.clone())
    else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "that client has no initiate-login URL",
        );
    };
    // The organization's SSO connection, as the employee's IdP is one.
    let connection_id = idp
        .store()
        .connections
        .iter()
        .find(|c| c.enabled && c.organization_id == persona.organization_id)
        .map_or(PICKER_CONNECTION_ID.to_string(), |c| c.id.clone());
    let now = now();
    let mut claims = json!({
        "iss": idp.issuer,
        "aud": [form.client_id],
        "iat": now,
        "exp": now + TOKEN_TTL,
        "jti": scalekit_id("idp_"),
        "connection_id": connection_id,
        "organization_id": persona.organization_id,
        "login_hint": persona.email,
    });
    let relay_state = form.relay_state.trim();
    if !relay_state.is_empty() {
        if relay_state.len() > 512 {
            return error_page(StatusCode::BAD_REQUEST, "the relay state is too long");
        }
        claims["relay_state"] = json!(relay_state);
    }
    let token = match idp.keys().sign(&claims) {
        Ok(token) => token,
        Err(e) => return error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let Ok(mut target) = url::Url::parse(&uri) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "the initiate-login URL is not a URL",
        );
    };
    target
        .query_pairs_mut()
        .append_pair("idp_initiated_login", &token);
    match HeaderValue::from_str(target.as_str()) {
        Ok(location) => (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response(),
        Err(_) => error_page(StatusCode::BAD_REQUEST, "bad initiate-login URL"),
    }
}
