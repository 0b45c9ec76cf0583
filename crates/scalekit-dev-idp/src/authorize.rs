//! `GET/POST /oauth/authorize`: checks the request, signs a persona in (by `login_hint`, an
//! existing provider session, or the picker form) and sends the browser back with a code.

use std::sync::Arc;

use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Response};
use http::header::{LOCATION, USER_AGENT};
use http::{HeaderMap, HeaderValue, StatusCode};
use tower_cookies::cookie::SameSite;
use tower_cookies::{Cookie, Cookies};

use super::connections::{route, Route, Selector, PICKER_CONNECTION_ID};
use super::html::{error_page, organization_picker_page, picker_page, signup_page};
use super::params::Params;
use super::resources::{granted_scope, is_loopback_http, scope_offered};
use super::sessions::{SessionRecord, SessionStatus};
use super::settings::Persona;
use super::store::{BrowserSession, CodeGrant, ResourceGrant};
use super::{now, random_token, scalekit_id, user_agent, DevIdp, CODE_TTL, SESSION_COOKIE};

/// A request that passed every check: where to send the answer, and what to put in the code.
struct Checked {
    client_id: String,
    redirect_uri: String,
    state: Option<String>,
    scope: String,
    nonce: Option<String>,
    code_challenge: Option<String>,
    /// The SSO connection or organization the request routes to (see `connections.rs`).
    route: Route,
    prompt: Vec<String>,
    login_hint: Option<String>,
    resource: Option<ResourceGrant>,
    /// A person must choose on the picker even with a hint or a provider session: a dynamically
    /// registered client sending the browser off this machine. Anyone can register one, so a silent
    /// redirect would make the provider an open redirector handing out codes.
    needs_consent: bool,
}

/// Why a request was refused: shown on a page when the redirect URI cannot be trusted, otherwise
/// sent back to the client as `error`/`error_description`/`state`.
enum Refusal {
    Page(String),
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: &'static str,
        description: String,
    },
}

impl Refusal {
    fn into_response(self, status_for_redirect: StatusCode) -> Response {
        match self {
            Refusal::Page(message) => error_page(StatusCode::BAD_REQUEST, &message),
            Refusal::Redirect {
                redirect_uri,
                state,
                error,
                description,
            } => {
                let mut pairs = vec![
                    ("error", error.to_string()),
                    ("error_description", description),
                ];
                if let Some(state) = state {
                    pairs.push(("state", state));
                }
                redirect_with(&redirect_uri, &pairs, status_for_redirect)
            }
        }
    }
}

/// `redirect_uri` with `pairs` appended to its query.
fn redirect_with(redirect_uri: &str, pairs: &[(&str, String)], status: StatusCode) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return error_page(StatusCode::BAD_REQUEST, "the redirect URI is not a URL");
    };
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in pairs {
            query.append_pair(name, value);
        }
    }
    match HeaderValue::from_str(url.as_str()) {
        Ok(location) => (status, [(LOCATION, location)]).into_response(),
        Err(_) => error_page(
            StatusCode::BAD_REQUEST,
            "the redirect URI is not a valid header value",
        ),
    }
}

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Z a-z 0-9 - . _ ~]`; an S256 challenge is 43.
fn is_valid_code_challenge(challenge: &str) -> bool {
    (43..=128).contains(&challenge.len())
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn check(idp: &DevIdp, params: &Params) -> Result<Checked, Refusal> {
    let client_id = params
        .get("client_id")
        .ok_or_else(|| Refusal::Page("the request has no client_id".into()))?;
    let client = idp
        .client(client_id)
        .ok_or_else(|| Refusal::Page(format!("unknown client_id `{client_id}`")))?;
    let redirect_uri = params
        .get("redirect_uri")
        .ok_or_else(|| Refusal::Page("the request has no redirect_uri".into()))?;
    // Exact string comparison, as Scalekit does (RFC 9700 §2.1).
    if !client.redirect_uris.iter().any(|u| u == redirect_uri) {
        // The registered URIs are not listed: the page is public and they are the client's.
        return Err(Refusal::Page(format!(
            "redirect_uri `{redirect_uri}` is not registered for client `{client_id}`"
        )));
    }
    let state = params.get("state").map(str::to_string);
    let refuse = |error: &'static str, description: String| Refusal::Redirect {
        redirect_uri: redirect_uri.to_string(),
        state: state.clone(),
        error,
        description,
    };

    if params.get("response_type") != Some("code") {
        return Err(refuse(
            "unsupported_response_type",
            "only response_type=code is supported".into(),
        ));
    }
    let scope = params.get("scope").unwrap_or_default();
    let resource = match &client.resource_id {
        // The app's own sign-in is OpenID Connect.
        None if !scope.split(' ').any(|s| s == "openid") => {
            return Err(refuse("invalid_scope", "scope must include openid".into()))
        }
        None => None,
        // An MCP client asks for the scopes of the resource it registered for.
        Some(resource_id) => {
            let Some(resource) = idp.settings.resource(resource_id) else {
                return Err(refuse(
                    "invalid_target",
                    format!("resource `{resource_id}` no longer exists"),
                ));
            };
            if let Some(unknown) = scope
                .split(' ')
                .filter(|s| !s.is_empty())
                .find(|s| !scope_offered(resource, s))
            {
                return Err(refuse(
                    "invalid_scope",
                    format!("scope `{unknown}` is not offered by resource `{resource_id}`"),
                ));
            }
            // RFC 8707: the server the client means must be this resource.
            let url = match params.get("resource") {
                None => None,
                Some(named) if named == resource.id => None,
                Some(named) if resource.server_urls.iter().any(|u| u == named) => {
                    Some(named.to_string())
                }
                Some(named) => {
                    return Err(refuse(
                        "invalid_target",
                        format!("`{named}` is not a server of resource `{resource_id}`"),
                    ))
                }
            };
            Some(ResourceGrant {
                id: resource.id.clone(),
                url,
            })
        }
    };
    let code_challenge = match (
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    ) {
        (None, None) if client.client_secret.is_none() => {
            return Err(refuse(
                "invalid_request",
                "public clients must use PKCE (S256)".into(),
            ))
        }
        (None, None) => None,
        (Some(challenge), Some("S256")) if is_valid_code_challenge(challenge) => {
            Some(challenge.to_string())
        }
        (Some(_), Some("S256")) => {
            return Err(refuse("invalid_request", "malformed code_challenge".into()))
        }
        (None, Some(_)) => {
            return Err(refuse(
                "invalid_request",
                "code_challenge is missing".into(),
            ))
        }
        (_, Some("plain")) | (Some(_), None) => {
            return Err(refuse(
                "invalid_request",
                "code_challenge_method must be S256 (plain is refused)".into(),
            ))
        }
        (_, Some(other)) => {
            return Err(refuse(
                "invalid_request",
                format!("unsupported code_challenge_method `{other}`"),
            ))
        }
    };
    // The Node and Go SDKs send the domain as both `domain_hint` and `domain`.
    let selector = Selector {
        connection_id: params.get("connection_id"),
        organization_id: params.get("organization_id"),
        domain_hint: params.get("domain_hint").or(params.get("domain")),
        login_hint: params.get("login_hint"),
    };
    let route = route(
        &idp.store().connections,
        &idp.settings.organizations,
        selector,
    )
    .map_err(|problem| {
        let (error, description) = problem.describe();
        refuse(error, description)
    })?;
    Ok(Checked {
        client_id: client_id.to_string(),
        redirect_uri: redirect_uri.to_string(),
        state: state.clone(),
        scope: scope.to_string(),
        nonce: params.get("nonce").map(str::to_string),
        code_challenge,
        route,
        prompt: params
            .get("prompt")
            .map(|p| p.split(' ').map(str::to_string).collect())
            .unwrap_or_default(),
        login_hint: params.get("login_hint").map(str::to_string),
        needs_consent: client.resource_id.is_some()
            && !url::Url::parse(redirect_uri).is_ok_and(|url| is_loopback_http(&url)),
        resource,
    })
}

/// The original request's parameters, for the hidden fields of the picker and sign-up forms
/// (without the forms' own fields).
fn request_fields(params: &Params) -> Vec<(&String, &String)> {
    params
        .pairs()
        .filter(|(name, _)| !matches!(name.as_str(), "persona" | "signup" | "name" | "email"))
        .collect()
}

/// `prompt=create` from a client that may sign people in without consent.
fn wants_sign_up(request: &Checked) -> bool {
    request.prompt.iter().any(|p| p == "create") && !request.needs_consent
}

/// The organization a sign-up joins: the one the request routes to, else the built-in one.
fn sign_up_organization(request: &Checked) -> String {
    request
        .route
        .organization_id
        .clone()
        .unwrap_or_else(|| super::settings::DEFAULT_ORG_ID.to_string())
}

fn sign_up_form(
    idp: &DevIdp,
    hidden: &[(&String, &String)],
    request: &Checked,
    error: Option<&str>,
) -> Response {
    let organization = sign_up_organization(request);
    let name = idp
        .settings
        .organization(&organization)
        .map_or(organization.clone(), |o| o.name.clone());
    signup_page(
        &idp.url("/oauth/authorize"),
        hidden,
        &name,
        &origin_of(&request.redirect_uri),
        error,
    )
}

/// The sign-up form's submission: a new persona, signed in at once.
fn sign_up(
    idp: &DevIdp,
    cookies: &Cookies,
    headers: &HeaderMap,
    params: &Params,
    request: Checked,
) -> Response {
    let organization = sign_up_organization(&request);
    match idp.sign_up(
        params.get("name").unwrap_or_default(),
        params.get("email").unwrap_or_default(),
        &organization,
    ) {
        Ok(persona) => issue_code(
            idp,
            cookies,
            headers,
            request,
            &persona,
            StatusCode::SEE_OTHER,
        ),
        Err(problem) => sign_up_form(idp, &request_fields(params), &request, Some(&problem)),
    }
}

/// What the picker says about where the request was routed.
fn route_note(idp: &DevIdp, route: &Route) -> String {
    let organization = |id: &str| {
        idp.settings
            .organization(id)
            .map_or(id.to_string(), |o| o.name.clone())
    };
    match (
        &route.connection,
        &route.organization_id,
        &route.unmatched_domain,
    ) {
        (Some(connection), _, _) => format!(
            "Single sign-on through {}'s {} connection {}.",
            organization(&connection.organization_id),
            connection.provider,
            connection.id
        ),
        (None, Some(org), _) => format!(
            "Signing in to {}, which has no SSO connection.",
            organization(org)
        ),
        (None, None, Some(domain)) => {
            format!("No SSO connection is set up for {domain}: choose who signs in.")
        }
        (None, None, None) => String::new(),
    }
}

/// Who may sign in for this request: the personas as they are now (memberships changed or
/// removed at `/_control` count), as members of the organization the request routes to.
fn personas_for(idp: &DevIdp, request: &Checked) -> Vec<Persona> {
    idp.personas()
        .into_iter()
        .filter_map(|p| match &request.route.organization_id {
            Some(organization) => p.in_organization(organization),
            None => Some(p),
        })
        .collect()
}

/// The person must say which organization: none was asked for and they belong to several.
fn must_choose_organization(request: &Checked, persona: &Persona) -> bool {
    request.route.organization_id.is_none() && persona.organization_ids().len() > 1
}

fn selects_account(request: &Checked) -> bool {
    request.prompt.iter().any(|p| p == "select_account")
}

/// The organization picker for `persona`: one button per organization, the request in hidden
/// fields; the choice comes back as `organization_id`, which routes the request there.
fn choose_organization(
    idp: &DevIdp,
    params: &Params,
    request: &Checked,
    persona: &Persona,
) -> Response {
    let hidden: Vec<(&String, &String)> = request_fields(params)
        .into_iter()
        .filter(|(name, _)| name.as_str() != "organization_id")
        .collect();
    organization_picker_page(
        &idp.url("/oauth/authorize"),
        &hidden,
        persona,
        &idp.organizations_of(persona),
        &origin_of(&request.redirect_uri),
    )
}

/// The browser's `User-Agent`, as the sessions API shows it (truncated; empty when absent).
fn user_agent_of(headers: &HeaderMap) -> String {
    headers
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(user_agent::truncate)
        .unwrap_or_default()
}

/// Signs `persona` in at the provider (new session unless the current one is theirs), stores a
/// code and redirects back to the client.
fn issue_code(
    idp: &DevIdp,
    cookies: &Cookies,
    headers: &HeaderMap,
    request: Checked,
    persona: &Persona,
    status: StatusCode,
) -> Response {
    let now = now();
    let mut store = idp.store();
    store.prune(now);
    let connection_id = request
        .route
        .connection
        .as_ref()
        .map_or(PICKER_CONNECTION_ID, |c| c.id.as_str())
        .to_string();
    // A provider session is reused only for the same person, organization and connection.
    let existing = cookies
        .get(SESSION_COOKIE)
        .and_then(|c| store.sessions.get(c.value()).cloned())
        .filter(|s| s.persona == persona.key && !request.prompt.iter().any(|p| p == "login"))
        .filter(|s| {
            store.session_records.get(&s.sid).is_some_and(|r| {
                r.connection_id == connection_id && r.organization_id == persona.organization_id
            })
        });
    let session = match existing {
        Some(session) => session,
        None => {
            let session = BrowserSession {
                sid: scalekit_id("ses_"),
                persona: persona.key.clone(),
                auth_time: now,
            };
            let cookie_value = random_token(32);
            let record = SessionRecord {
                sid: session.sid.clone(),
                persona: persona.key.clone(),
                user_id: persona.sub.clone(),
                organization_id: persona.organization_id.clone(),
                connection_id,
                clients: Vec::new(),
                created_at: now,
                updated_at: now,
                last_active_at: now,
                user_agent: user_agent_of(headers),
                status: SessionStatus::Active,
                ended_at: None,
            };
            store.start_session(cookie_value.clone(), session.clone(), record);
            let mut cookie = Cookie::new(SESSION_COOKIE, cookie_value);
            cookie.set_path(idp.cookie_path());
            cookie.set_http_only(true);
            cookie.set_same_site(SameSite::Lax);
            cookie.set_secure(idp.secure_cookies());
            cookies.add(cookie);
            session
        }
    };
    let code = random_token(32);
    store.codes.insert(
        code.clone(),
        CodeGrant {
            client_id: request.client_id,
            redirect_uri: request.redirect_uri.clone(),
            persona: persona.key.clone(),
            // Only what this persona may hold: asking for more is no way to get it.
            scope: granted_scope(&request.scope, persona, request.resource.as_ref()),
            nonce: request.nonce,
            code_challenge: request.code_challenge,
            sid: session.sid,
            auth_time: session.auth_time,
            expires_at: now + CODE_TTL,
            resource: request.resource,
        },
    );
    drop(store);
    let mut pairs = vec![("code", code)];
    if let Some(state) = request.state {
        pairs.push(("state", state));
    }
    redirect_with(&request.redirect_uri, &pairs, status)
}

fn origin_of(uri: &str) -> String {
    url::Url::parse(uri)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

/// Parses and checks an authorization request; a refusal is already the response to send
/// (`redirect_status` is 302 after a GET, 303 after the picker's POST).
#[allow(clippy::result_large_err)]
fn parse_and_check(
    idp: &DevIdp,
    pairs: Vec<(String, String)>,
    redirect_status: StatusCode,
) -> Result<(Params, Checked), Response> {
    let params = Params::from_pairs(pairs).map_err(|repeated| {
        error_page(
            StatusCode::BAD_REQUEST,
            &format!("parameter `{}` is repeated", repeated.0),
        )
    })?;
    let request = check(idp, &params).map_err(|refusal| refusal.into_response(redirect_status))?;
    Ok((params, request))
}

pub async fn authorize_get(
    State(idp): State<Arc<DevIdp>>,
    cookies: Cookies,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let (params, request) = match parse_and_check(&idp, pairs, StatusCode::FOUND) {
        Ok(checked) => checked,
        Err(response) => return response,
    };
    // prompt=create goes to sign-up, whoever is signed in or hinted.
    if wants_sign_up(&request) {
        return sign_up_form(&idp, &request_fields(&params), &request, None);
    }
    let candidates = personas_for(&idp, &request);

    // login_hint naming a persona signs it in with no click (tests and scripted logins).
    if let Some(persona) = request
        .login_hint
        .as_deref()
        .filter(|_| !request.needs_consent)
        .and_then(|hint| candidates.iter().find(|p| p.matches_hint(hint)))
    {
        // A scripted login_hint signs in to the first organization unless asked to choose.
        if selects_account(&request) && must_choose_organization(&request, persona) {
            return choose_organization(&idp, &params, &request, persona);
        }
        let persona = persona.clone();
        return issue_code(
            &idp,
            &cookies,
            &headers,
            request,
            &persona,
            StatusCode::FOUND,
        );
    }
    let force_login = request.prompt.iter().any(|p| p == "login");
    let session = cookies
        .get(SESSION_COOKIE)
        .and_then(|c| idp.store().sessions.get(c.value()).cloned());
    if let Some(session) = session.filter(|_| !force_login && !request.needs_consent) {
        if let Some(persona) = candidates.iter().find(|p| p.key == session.persona) {
            if selects_account(&request) && must_choose_organization(&request, persona) {
                return choose_organization(&idp, &params, &request, persona);
            }
            let persona = persona.clone();
            return issue_code(
                &idp,
                &cookies,
                &headers,
                request,
                &persona,
                StatusCode::FOUND,
            );
        }
    }
    if request.prompt.iter().any(|p| p == "none") {
        let (error, description) = if request.needs_consent {
            ("consent_required", "this client needs a person's consent")
        } else {
            ("login_required", "no one is signed in at the provider")
        };
        return Refusal::Redirect {
            redirect_uri: request.redirect_uri,
            state: request.state,
            error,
            description: description.into(),
        }
        .into_response(StatusCode::FOUND);
    }
    let hidden = request_fields(&params);
    let candidates: Vec<&Persona> = candidates.iter().collect();
    picker_page(
        &idp.url("/oauth/authorize"),
        &request.client_id,
        &hidden,
        &candidates,
        &origin_of(&request.redirect_uri),
        &route_note(&idp, &request.route),
    )
}

/// The picker's submission: the whole request is checked again (hidden fields are input too).
pub async fn authorize_post(
    State(idp): State<Arc<DevIdp>>,
    cookies: Cookies,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let (params, request) = match parse_and_check(&idp, pairs, StatusCode::SEE_OTHER) {
        Ok(checked) => checked,
        Err(response) => return response,
    };
    if params.get("signup").is_some() && wants_sign_up(&request) {
        return sign_up(&idp, &cookies, &headers, &params, request);
    }
    let chosen = params.get("persona").unwrap_or_default();
    let Some(persona) = personas_for(&idp, &request)
        .into_iter()
        .find(|p| p.key == chosen)
    else {
        return error_page(
            StatusCode::BAD_REQUEST,
            &format!("unknown persona `{chosen}`"),
        );
    };
    if must_choose_organization(&request, &persona) {
        return choose_organization(&idp, &params, &request, &persona);
    }
    issue_code(
        &idp,
        &cookies,
        &headers,
        request,
        &persona,
        StatusCode::SEE_OTHER,
    )
}
