//! Scalekit's user-sessions REST API, over the provider's own sessions: list a user's sessions,
//! read one, revoke one, revoke all of a user's. Authorised and shaped like the management API
//! (`management.rs`): an environment management token as Bearer, snake_case JSON, grpc-gateway
//! errors, unset timestamps as `null`. Scalekit's SDKs call the same operations over gRPC
//! (`sessions_grpc.rs`); both encodings share the operations at the top of this file. Revoking
//! ends the session as a logout does, with back-channel logout tokens to its clients.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::HeaderMap;
use serde_json::{json, Map, Value};

use super::management::{authenticate, invalid_argument, not_found, RpcError};
use super::sessions::{SessionRecord, SessionStatus};
use super::settings::Persona;
use super::{now, rfc3339, user_agent, DevIdp};

/// Scalekit does not document its defaults; these keep answers small.
const DEFAULT_PAGE_SIZE: usize = 10;
const MAX_PAGE_SIZE: usize = 100;

/// An id of the form `{prefix}{digits}` (`ses_…`, `usr_…`), or INVALID_ARGUMENT.
pub(super) fn checked_id(id: &str, prefix: &str, what: &str) -> Result<(), RpcError> {
    let invalid = || invalid_argument(&format!("{what} must look like {prefix}123"));
    let digits = id.strip_prefix(prefix).ok_or_else(invalid)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    Ok(())
}

fn checked_path_id(
    path: Result<Path<String>, PathRejection>,
    prefix: &str,
    what: &str,
) -> Result<String, RpcError> {
    let Path(id) =
        path.map_err(|_| invalid_argument(&format!("{what} must look like {prefix}123")))?;
    checked_id(&id, prefix, what)?;
    Ok(id)
}

fn persona_by_user_id(idp: &DevIdp, user_id: &str) -> Result<Persona, RpcError> {
    idp.personas()
        .into_iter()
        .find(|p| p.sub == user_id)
        .ok_or_else(|| not_found(&format!("user {user_id} not found")))
}

fn time(secs: Option<u64>) -> Value {
    secs.map_or(Value::Null, |secs| Value::String(rfc3339(secs)))
}

/// `(logout_at, expired_at)`: a session that was ended has one of them, by how it ended.
pub(super) fn end_times(record: &SessionRecord) -> (Option<u64>, Option<u64>) {
    match record.status {
        SessionStatus::Logout | SessionStatus::Revoked => (record.ended_at, None),
        SessionStatus::Expired => (None, record.ended_at),
        SessionStatus::Active => (None, None),
    }
}

/// The fields SessionDetails and RevokedSessionDetails share. The provider has no idle timeout,
/// so a session idles out no sooner than it expires.
fn common_fields(record: &SessionRecord) -> Map<String, Value> {
    let expires_at = record.absolute_expires_at();
    let (logout_at, expired_at) = end_times(record);
    let fields = json!({
        "session_id": record.sid,
        "user_id": record.user_id,
        "organization_id": record.organization_id,
        "created_at": time(Some(record.created_at)),
        "updated_at": time(Some(record.updated_at)),
        "idle_expires_at": time(Some(expires_at)),
        "absolute_expires_at": time(Some(expires_at)),
        "expired_at": time(expired_at),
        "logout_at": time(logout_at),
        "status": record.status.as_str(),
        "last_active_at": time(Some(record.last_active_at)),
    });
    match fields {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn session_details(record: &SessionRecord) -> Value {
    let device = user_agent::parse(&record.user_agent);
    let mut fields = common_fields(record);
    fields.insert(
        "authenticated_organizations".into(),
        json!([record.organization_id]),
    );
    // Where a request came from is not known to the provider behind the app's router.
    fields.insert(
        "device".into(),
        json!({
            "user_agent": record.user_agent,
            "os": device.os,
            "os_version": device.os_version,
            "browser": device.browser,
            "browser_version": device.browser_version,
            "device_type": device.device_type,
            "ip": "",
            "location": {
                "region": "",
                "region_subdivision": "",
                "city": "",
                "latitude": "",
                "longitude": "",
            },
        }),
    );
    let clients: Vec<Value> = record
        .clients
        .iter()
        .map(|client_id| json!({ "client_id": client_id, "organization_id": record.organization_id }))
        .collect();
    fields.insert("authenticated_clients".into(), Value::Array(clients));
    Value::Object(fields)
}

fn revoked_session_details(record: &SessionRecord) -> Value {
    Value::Object(common_fields(record))
}

/// What a list request asks for: a page (`page_token` is an offset this API handed out) and the
/// filter (statuses, and a creation-time window `[created_from, created_before)`).
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct ListQuery {
    pub page_size: usize,
    pub offset: usize,
    pub statuses: Vec<SessionStatus>,
    pub created_from: Option<u64>,
    pub created_before: Option<u64>,
}

impl ListQuery {
    /// `requested` 0 means the default, as in Scalekit's API.
    pub(super) fn page_size_from(requested: usize) -> usize {
        match requested {
            0 => DEFAULT_PAGE_SIZE,
            size => size.min(MAX_PAGE_SIZE),
        }
    }

    pub(super) fn offset_from(page_token: &str) -> Result<usize, RpcError> {
        if page_token.is_empty() {
            return Ok(0);
        }
        page_token
            .parse::<usize>()
            .map_err(|_| invalid_argument("page_token is not one this API returned"))
    }

    pub(super) fn add_status(&mut self, status: &str) -> Result<(), RpcError> {
        let parsed = SessionStatus::parse(status).ok_or_else(|| {
            invalid_argument(&format!(
                "filter.status `{}` must be ACTIVE, LOGOUT, REVOKED or EXPIRED",
                status.chars().take(32).collect::<String>().escape_debug()
            ))
        })?;
        if !self.statuses.contains(&parsed) {
            self.statuses.push(parsed);
        }
        Ok(())
    }

    pub(super) fn check_window(&self) -> Result<(), RpcError> {
        match (self.created_from, self.created_before) {
            (Some(from), Some(before)) if before <= from => Err(invalid_argument(
                "filter.end_time must be after filter.start_time",
            )),
            _ => Ok(()),
        }
    }

    fn admits(&self, record: &SessionRecord) -> bool {
        (self.statuses.is_empty() || self.statuses.contains(&record.status))
            && self
                .created_from
                .is_none_or(|from| record.created_at >= from)
            && self
                .created_before
                .is_none_or(|before| record.created_at < before)
    }
}

/// The REST form: `page_size`, `page_token` and `filter.status` (repeated or comma-separated, any
/// case).
fn parse_list_query(raw: Option<&str>) -> Result<ListQuery, RpcError> {
    let mut query = ListQuery {
        page_size: DEFAULT_PAGE_SIZE,
        ..ListQuery::default()
    };
    for (name, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match name.as_ref() {
            "page_size" if !value.is_empty() => {
                let size = value
                    .parse::<usize>()
                    .map_err(|_| invalid_argument("page_size must be a number"))?;
                query.page_size = ListQuery::page_size_from(size);
            }
            "page_token" => query.offset = ListQuery::offset_from(&value)?,
            "filter.status" => {
                for status in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    query.add_status(status)?;
                }
            }
            _ => {}
        }
    }
    Ok(query)
}

/// One page of a user's sessions, newest first.
pub(super) struct SessionPage {
    pub sessions: Vec<SessionRecord>,
    pub next_page_token: String,
    pub prev_page_token: String,
    pub total_size: usize,
}

/// The sessions of `user_id` that `query` admits.
pub(super) fn user_sessions(
    idp: &DevIdp,
    user_id: &str,
    query: &ListQuery,
) -> Result<SessionPage, RpcError> {
    checked_id(user_id, "usr_", "user_id")?;
    persona_by_user_id(idp, user_id)?;
    query.check_window()?;
    let mut matching: Vec<SessionRecord> = {
        let mut store = idp.store();
        store.prune(now());
        store
            .session_records
            .values()
            .filter(|r| r.user_id == user_id && query.admits(r))
            .cloned()
            .collect()
    };
    matching.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| a.sid.cmp(&b.sid))
    });
    let total_size = matching.len();
    let next = query.offset.saturating_add(query.page_size);
    let next_page_token = if next < total_size {
        next.to_string()
    } else {
        String::new()
    };
    let prev_page_token = if query.offset > 0 {
        query.offset.saturating_sub(query.page_size).to_string()
    } else {
        String::new()
    };
    let sessions = matching
        .into_iter()
        .skip(query.offset)
        .take(query.page_size)
        .collect();
    Ok(SessionPage {
        sessions,
        next_page_token,
        prev_page_token,
        total_size,
    })
}

/// One session, whatever its status.
pub(super) fn session(idp: &DevIdp, sid: &str) -> Result<SessionRecord, RpcError> {
    checked_id(sid, "ses_", "session_id")?;
    let mut store = idp.store();
    store.prune(now());
    store
        .session_records
        .get(sid)
        .cloned()
        .ok_or_else(|| not_found(&format!("session {sid} not found")))
}

/// Ends one session. An ended session is answered as it is.
pub(super) fn revoke(idp: &Arc<DevIdp>, sid: &str) -> Result<SessionRecord, RpcError> {
    let record = session(idp, sid)?;
    if !record.is_active() {
        return Ok(record);
    }
    Ok(idp
        .end_sessions([sid.to_owned()], SessionStatus::Revoked)
        .pop()
        .unwrap_or(record))
}

/// Ends every active session of `user_id`; answers the ones it ended.
pub(super) fn revoke_all(idp: &Arc<DevIdp>, user_id: &str) -> Result<Vec<SessionRecord>, RpcError> {
    checked_id(user_id, "usr_", "user_id")?;
    let persona = persona_by_user_id(idp, user_id)?;
    let sids = idp.active_sessions_of(&persona.key);
    Ok(idp.end_sessions(sids, SessionStatus::Revoked))
}

/// `GET /api/v1/users/{user_id}/sessions`.
pub async fn list_user_sessions(
    State(idp): State<Arc<DevIdp>>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    RawQuery(raw_query): RawQuery,
) -> Result<Response, RpcError> {
    authenticate(&idp, &headers)?;
    let user_id = checked_path_id(path, "usr_", "user_id")?;
    let query = parse_list_query(raw_query.as_deref())?;
    let page = user_sessions(&idp, &user_id, &query)?;
    let sessions: Vec<Value> = page.sessions.iter().map(session_details).collect();
    Ok(Json(json!({
        "sessions": sessions,
        "next_page_token": page.next_page_token,
        "prev_page_token": page.prev_page_token,
        "total_size": page.total_size,
    }))
    .into_response())
}

/// `GET /api/v1/sessions/{session_id}`.
pub async fn get_session(
    State(idp): State<Arc<DevIdp>>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, RpcError> {
    authenticate(&idp, &headers)?;
    let sid = checked_path_id(path, "ses_", "session_id")?;
    Ok(Json(session_details(&session(&idp, &sid)?)).into_response())
}

/// `POST /api/v1/sessions/{session_id}/revoke`.
pub async fn revoke_session(
    State(idp): State<Arc<DevIdp>>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, RpcError> {
    authenticate(&idp, &headers)?;
    let sid = checked_path_id(path, "ses_", "session_id")?;
    let record = revoke(&idp, &sid)?;
    Ok(Json(json!({ "revoked_session": revoked_session_details(&record) })).into_response())
}

/// `POST /api/v1/users/{user_id}/sessions/revoke`: every active session of the user.
pub async fn revoke_user_sessions(
    State(idp): State<Arc<DevIdp>>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, RpcError> {
    authenticate(&idp, &headers)?;
    let user_id = checked_path_id(path, "usr_", "user_id")?;
    let revoked: Vec<Value> = revoke_all(&idp, &user_id)?
        .iter()
        .map(revoked_session_details)
        .collect();
    Ok(Json(json!({
        "total_revoked": revoked.len(),
        "revoked_sessions": revoked,
    }))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn o8_list_queries_page_and_filter_by_status_in_any_case() {
        let query = parse_list_query(Some(
            "page_size=500&page_token=20&filter.status=active,Revoked",
        ))
        .unwrap();
        assert_eq!(
            query,
            ListQuery {
                page_size: MAX_PAGE_SIZE,
                offset: 20,
                statuses: vec![SessionStatus::Active, SessionStatus::Revoked],
                ..ListQuery::default()
            }
        );
        let defaults = parse_list_query(None).unwrap();
        assert_eq!(defaults.page_size, DEFAULT_PAGE_SIZE);
        assert!(defaults.statuses.is_empty());
        for bad in ["page_size=ten", "page_token=abc", "filter.status=gone"] {
            assert!(parse_list_query(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn o8_revoked_details_leave_out_device_organizations_and_clients() {
        let record = SessionRecord {
            sid: "ses_1".into(),
            persona: "admin".into(),
            user_id: "usr_1".into(),
            organization_id: "org_1".into(),
            connection_id: "conn_1".into(),
            clients: vec!["skc_1".into()],
            created_at: 0,
            updated_at: 60,
            last_active_at: 30,
            user_agent: "curl/8".into(),
            status: SessionStatus::Revoked,
            ended_at: Some(60),
        };
        let revoked = revoked_session_details(&record);
        for absent in [
            "device",
            "authenticated_organizations",
            "authenticated_clients",
        ] {
            assert!(revoked.get(absent).is_none(), "{absent}");
        }
        assert_eq!(revoked["logout_at"], "1970-01-01T00:01:00Z");
        assert_eq!(revoked["expired_at"], Value::Null);
        assert_eq!(revoked["absolute_expires_at"], "1970-01-02T00:00:00Z");
        let details = session_details(&record);
        assert_eq!(details["authenticated_clients"][0]["client_id"], "skc_1");
        assert_eq!(details["device"]["user_agent"], "curl/8");
        assert_eq!(details["device"]["browser"], "");
    }
}
