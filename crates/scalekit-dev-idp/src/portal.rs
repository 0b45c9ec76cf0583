//! The customer admin portal, as Scalekit hosts it: the management API makes a single-use link
//! for one organization (`PUT /api/v1/organizations/{org}/portal_links`, valid a minute), opening
//! it starts a portal session (six hours, its own cookie), and the portal page edits that
//! organization's SSO connections: their domains and whether they are on. What it changes routes
//! the next sign-in (`connections.rs`). Directory sync is shown, not simulated.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::header::LOCATION;
use http::{HeaderMap, HeaderValue, StatusCode};
use serde::Deserialize;
use serde_json::json;
use tower_cookies::cookie::SameSite;
use tower_cookies::{Cookie, Cookies};

use super::connections::set_domains;
use super::html::{error_page, escape, page};
use super::management::{authorize, invalid_argument, RpcError};
use super::{now, random_token, rfc3339, scalekit_id, DevIdp};

/// A link works once, within this many seconds (Scalekit: one minute).
pub const LINK_TTL: u64 = 60;
/// A portal session lasts this long (Scalekit: six hours).
pub const SESSION_TTL: u64 = 6 * 3600;
/// Links and sessions kept at most, so scripted calls cannot grow memory.
const MAX_KEPT: usize = 1_000;
/// The portal's own cookie, scoped to its pages.
const PORTAL_COOKIE: &str = "skdev_portal";
/// What a link may open.
const FEATURES: [&str; 2] = ["sso", "dir_sync"];

/// Outstanding links and open portal sessions, by their secret token.
#[derive(Default)]
pub struct PortalState {
    links: HashMap<String, Grant>,
    sessions: HashMap<String, Grant>,
}

#[derive(Clone, Debug)]
struct Grant {
    organization_id: String,
    features: Vec<String>,
    expires_at: u64,
}

impl PortalState {
    fn prune(&mut self, now: u64) {
        for map in [&mut self.links, &mut self.sessions] {
            map.retain(|_, grant| grant.expires_at > now);
            while map.len() > MAX_KEPT {
                let Some(oldest) = map
                    .iter()
                    .min_by_key(|(_, grant)| grant.expires_at)
                    .map(|(token, _)| token.clone())
                else {
                    break;
                };
                map.remove(&oldest);
            }
        }
    }
}

/// `PUT /api/v1/organizations/{org}/portal_links?features=sso&features=dir_sync`.
pub async fn create_link(
    State(idp): State<Arc<DevIdp>>,
    Path(org): Path<String>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Json<serde_json::Value>, RpcError> {
    authorize(&idp, &headers, &org)?;
    let mut features = Vec::new();
    for (name, value) in &query {
        if name != "features" {
            continue;
        }
        if !FEATURES.contains(&value.as_str()) {
            return Err(invalid_argument(&format!("unknown feature {value}")));
        }
        if !features.contains(value) {
            features.push(value.clone());
        }
    }
    if features.is_empty() {
        features = FEATURES.iter().map(|f| f.to_string()).collect();
    }
    let now = now();
    let token = random_token(32);
    let expires_at = now + LINK_TTL;
    {
        let mut store = idp.store();
        store.portal.prune(now);
        store.portal.links.insert(
            token.clone(),
            Grant {
                organization_id: org,
                features,
                expires_at,
            },
        );
    }
    let location = format!("{}?token={token}", idp.url("/portal/open"));
    Ok(Json(json!({
        "link": {
            "id": scalekit_id("lnk_"),
            "location": location,
            "expire_time": rfc3339(expires_at),
        }
    })))
}

#[derive(Deserialize)]
pub struct OpenQuery {
    #[serde(default)]
    token: String,
}

/// `GET /portal/open?token=…`: spends the link and starts a portal session.
pub async fn open(
    State(idp): State<Arc<DevIdp>>,
    cookies: Cookies,
    Query(query): Query<OpenQuery>,
) -> Response {
    let now = now();
    let grant = {
        let mut store = idp.store();
        store.portal.prune(now);
        let grant = store.portal.links.remove(&query.token);
        if let Some(grant) = &grant {
            let session = Grant {
                expires_at: now + SESSION_TTL,
                ..grant.clone()
            };
            let value = random_token(32);
            store.portal.sessions.insert(value.clone(), session);
            let mut cookie = Cookie::new(PORTAL_COOKIE, value);
            cookie.set_path(portal_path(&idp));
            cookie.set_http_only(true);
            cookie.set_same_site(SameSite::Lax);
            cookie.set_secure(idp.secure_cookies());
            cookie.set_max_age(tower_cookies::cookie::time::Duration::seconds(
                SESSION_TTL as i64,
            ));
            cookies.add(cookie);
        }
        grant
    };
    if grant.is_none() {
        return error_page(
            StatusCode::BAD_REQUEST,
            "This admin portal link has expired or was already used: links work once, within a minute. Open the portal again from the application.",
        );
    }
    see_other(&portal_path(&idp))
}

fn portal_path(idp: &DevIdp) -> String {
    format!("{}/portal", idp.mount_path)
}

fn see_other(path: &str) -> Response {
    match HeaderValue::from_str(path) {
        Ok(location) => (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response(),
        Err(_) => error_page(StatusCode::INTERNAL_SERVER_ERROR, "bad redirect"),
    }
}

/// The portal session the browser holds, if any.
fn session(idp: &DevIdp, cookies: &Cookies) -> Option<Grant> {
    let value = cookies.get(PORTAL_COOKIE)?;
    let mut store = idp.store();
    store.portal.prune(now());
    store.portal.sessions.get(value.value()).cloned()
}

fn no_session() -> Response {
    error_page(
        StatusCode::UNAUTHORIZED,
        "No admin portal session: open the portal from the application's organization settings.",
    )
}

#[derive(Deserialize)]
pub struct ShowQuery {
    saved: Option<String>,
}

/// `GET /portal`: the organization's connections, each with a form.
pub async fn show(
    State(idp): State<Arc<DevIdp>>,
    cookies: Cookies,
    Query(query): Query<ShowQuery>,
) -> Response {
    let Some(grant) = session(&idp, &cookies) else {
        return no_session();
    };
    let message = query.saved.map(|id| {
        format!(
            "<p class=\"route\" role=\"status\">Saved {}.</p>",
            escape(&id)
        )
    });
    portal_page(&idp, &grant, StatusCode::OK, message.as_deref())
}

fn portal_page(idp: &DevIdp, grant: &Grant, status: StatusCode, message: Option<&str>) -> Response {
    let organization = idp
        .settings
        .organization(&grant.organization_id)
        .map_or(grant.organization_id.clone(), |o| o.name.clone());
    let mut body = format!(
        "<h1>Admin portal</h1><p class=\"note\">Development identity provider, standing in for Scalekit's hosted portal. Organization: <strong>{}</strong> (<code>{}</code>).</p>{}",
        escape(&organization),
        escape(&grant.organization_id),
        message.unwrap_or_default()
    );
    if grant.features.iter().any(|f| f == "sso") {
        body.push_str("<h2>Single sign-on</h2>");
        let connections: Vec<_> = idp
            .store()
            .connections
            .iter()
            .filter(|c| c.organization_id == grant.organization_id)
            .cloned()
            .collect();
        if connections.is_empty() {
            body.push_str("<p class=\"note\">No SSO connection.</p>");
        }
        for connection in connections {
            let action = escape(&idp.url(&format!("/portal/connections/{}", connection.id)));
            body.push_str(&format!(
                "<form method=\"post\" action=\"{action}\" data-testid=\"connection-{id}\">\
<p><strong>{provider}</strong> connection <code>{id}</code></p>\
<label for=\"domains-{id}\">Email domains that sign in through it (comma separated)</label>\
<input id=\"domains-{id}\" name=\"domains\" value=\"{domains}\" maxlength=\"2000\" style=\"display:block;width:100%;margin:.4rem 0\">\
<label><input type=\"checkbox\" name=\"enabled\" value=\"on\"{checked}> Enabled</label>\
<button type=\"submit\">Save connection</button></form>",
                id = escape(&connection.id),
                provider = escape(&connection.provider),
                domains = escape(&connection.domains.join(", ")),
                checked = if connection.enabled { " checked" } else { "" },
            ));
        }
    }
    if grant.features.iter().any(|f| f == "dir_sync") {
        body.push_str("<h2>Directory sync</h2><p class=\"note\">No directory is connected. (The development provider does not simulate SCIM.)</p>");
    }
    page(status, "Admin portal", &body, None)
}

#[derive(Deserialize)]
pub struct ConnectionForm {
    #[serde(default)]
    domains: String,
    enabled: Option<String>,
}

/// `POST /portal/connections/{id}`: saves a connection of the session's organization.
pub async fn save_connection(
    State(idp): State<Arc<DevIdp>>,
    cookies: Cookies,
    Path(connection_id): Path<String>,
    Form(form): Form<ConnectionForm>,
) -> Response {
    let Some(grant) = session(&idp, &cookies) else {
        return no_session();
    };
    if !grant.features.iter().any(|f| f == "sso") {
        return error_page(StatusCode::FORBIDDEN, "This portal link does not open SSO.");
    }
    let result = {
        let mut store = idp.store();
        let ours = store
            .connections
            .iter()
            .any(|c| c.id == connection_id && c.organization_id == grant.organization_id);
        if ours {
            set_domains(
                &mut store.connections,
                &connection_id,
                &form.domains,
                form.enabled.is_some(),
            )
        } else {
            // Another organization's connection is as good as unknown here.
            Err(format!("unknown connection `{connection_id}`"))
        }
    };
    match result {
        Ok(_) => see_other(&format!("{}?saved={connection_id}", portal_path(&idp))),
        Err(problem) => {
            let message = format!("<p class=\"error\" role=\"alert\">{}</p>", escape(&problem));
            portal_page(&idp, &grant, StatusCode::BAD_REQUEST, Some(&message))
        }
    }
}
