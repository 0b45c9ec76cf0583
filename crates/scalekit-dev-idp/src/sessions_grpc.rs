//! Scalekit's `scalekit.v1.sessions.SessionService` over gRPC, the way Scalekit's SDKs call it
//! (`session.getUserSessions`, `revokeSession`, … in Node; `sessions.get_user_sessions`, … in
//! Python). The operations are the REST API's (`sessions_api.rs`); this file is only the gRPC
//! encoding: unary calls over HTTP/2, length-prefixed protobuf, the status in trailers.
//!
//! The messages are written with `prost`'s derive from the field numbers of Scalekit's
//! `sessions.proto` (as its SDKs ship it), so no protoc or build script is needed. A whole gRPC
//! server framework (tonic) would bring its own router and HTTP stack for four unary methods that
//! axum already serves; the framing below is the gRPC-over-HTTP/2 spec's five-byte prefix.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::response::Response;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, StatusCode};
use http_body_util::{BodyExt, Full};
use prost::Message;

use super::management::{authenticate, RpcError};
use super::sessions::SessionRecord;
use super::sessions_api::{self, end_times, ListQuery};
use super::{user_agent, DevIdp};

/// The service's path prefix, at the provider's base URL.
pub const SERVICE_PATH: &str = "/scalekit.v1.sessions.SessionService/{method}";

/// Requests are a session or user id and a filter: a few hundred bytes.
const MAX_REQUEST: usize = 16 * 1024;

/// What `grpc-message` must percent-encode besides non-ASCII: controls and `%` itself.
const GRPC_MESSAGE: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS.add(b'%');

/// gRPC status codes used here (grpc/doc/statuscodes.md).
const INVALID_ARGUMENT: u16 = 3;
const UNIMPLEMENTED: u16 = 12;
const INTERNAL: u16 = 13;

#[derive(Clone, Copy, PartialEq, Message)]
struct Timestamp {
    #[prost(int64, tag = "1")]
    seconds: i64,
    #[prost(int32, tag = "2")]
    nanos: i32,
}

fn timestamp(secs: Option<u64>) -> Option<Timestamp> {
    secs.map(|secs| Timestamp {
        seconds: i64::try_from(secs).unwrap_or(i64::MAX),
        nanos: 0,
    })
}

/// Seconds since the epoch, or None for an unset or pre-1970 time.
fn seconds(time: Option<Timestamp>) -> Option<u64> {
    time.and_then(|t| u64::try_from(t.seconds).ok())
}

#[derive(Clone, PartialEq, Message)]
struct SessionDetailsRequest {
    #[prost(string, tag = "1")]
    session_id: String,
}

#[derive(Clone, PartialEq, Message)]
struct UserSessionDetailsRequest {
    #[prost(string, tag = "1")]
    user_id: String,
    #[prost(uint32, tag = "2")]
    page_size: u32,
    #[prost(string, tag = "3")]
    page_token: String,
    #[prost(message, optional, tag = "4")]
    filter: Option<UserSessionFilter>,
}

#[derive(Clone, PartialEq, Message)]
struct UserSessionFilter {
    #[prost(string, repeated, tag = "1")]
    status: Vec<String>,
    #[prost(message, optional, tag = "2")]
    start_time: Option<Timestamp>,
    #[prost(message, optional, tag = "3")]
    end_time: Option<Timestamp>,
}

#[derive(Clone, PartialEq, Message)]
struct RevokeSessionRequest {
    #[prost(string, tag = "1")]
    session_id: String,
}

#[derive(Clone, PartialEq, Message)]
struct RevokeSessionResponse {
    #[prost(message, optional, tag = "1")]
    revoked_session: Option<RevokedSessionDetails>,
}

#[derive(Clone, PartialEq, Message)]
struct RevokeAllUserSessionsRequest {
    #[prost(string, tag = "1")]
    user_id: String,
}

#[derive(Clone, PartialEq, Message)]
struct RevokeAllUserSessionsResponse {
    #[prost(message, repeated, tag = "1")]
    revoked_sessions: Vec<RevokedSessionDetails>,
    #[prost(uint32, tag = "2")]
    total_revoked: u32,
}

#[derive(Clone, PartialEq, Message)]
struct UserSessionDetails {
    #[prost(message, repeated, tag = "1")]
    sessions: Vec<SessionDetails>,
    #[prost(string, tag = "2")]
    next_page_token: String,
    #[prost(string, tag = "3")]
    prev_page_token: String,
    #[prost(uint32, tag = "4")]
    total_size: u32,
}

#[derive(Clone, PartialEq, Message)]
struct SessionDetails {
    #[prost(string, tag = "1")]
    session_id: String,
    #[prost(string, tag = "2")]
    user_id: String,
    #[prost(string, repeated, tag = "3")]
    authenticated_organizations: Vec<String>,
    #[prost(string, tag = "4")]
    organization_id: String,
    #[prost(message, optional, tag = "5")]
    created_at: Option<Timestamp>,
    #[prost(message, optional, tag = "6")]
    updated_at: Option<Timestamp>,
    #[prost(message, optional, tag = "7")]
    idle_expires_at: Option<Timestamp>,
    #[prost(message, optional, tag = "8")]
    absolute_expires_at: Option<Timestamp>,
    #[prost(message, optional, tag = "9")]
    expired_at: Option<Timestamp>,
    #[prost(message, optional, tag = "10")]
    logout_at: Option<Timestamp>,
    #[prost(string, tag = "11")]
    status: String,
    #[prost(message, optional, tag = "12")]
    device: Option<DeviceDetails>,
    #[prost(message, optional, tag = "13")]
    last_active_at: Option<Timestamp>,
    #[prost(message, repeated, tag = "14")]
    authenticated_clients: Vec<AuthenticatedClients>,
}

/// Field numbers as Scalekit's proto has them (they start at 12).
#[derive(Clone, PartialEq, Message)]
struct DeviceDetails {
    #[prost(string, tag = "12")]
    user_agent: String,
    #[prost(string, tag = "13")]
    os: String,
    #[prost(string, tag = "14")]
    os_version: String,
    #[prost(string, tag = "15")]
    browser: String,
    #[prost(string, tag = "16")]
    browser_version: String,
    #[prost(string, tag = "17")]
    device_type: String,
    #[prost(string, tag = "19")]
    ip: String,
    #[prost(message, optional, tag = "20")]
    location: Option<Location>,
}

#[derive(Clone, PartialEq, Message)]
struct Location {
    #[prost(string, tag = "1")]
    region: String,
    #[prost(string, tag = "2")]
    region_subdivision: String,
    #[prost(string, tag = "3")]
    city: String,
    #[prost(string, tag = "4")]
    latitude: String,
    #[prost(string, tag = "5")]
    longitude: String,
}

#[derive(Clone, PartialEq, Message)]
struct AuthenticatedClients {
    #[prost(string, tag = "1")]
    client_id: String,
    #[prost(string, tag = "2")]
    organization_id: String,
}

#[derive(Clone, PartialEq, Message)]
struct RevokedSessionDetails {
    #[prost(string, tag = "1")]
    session_id: String,
    #[prost(string, tag = "2")]
    user_id: String,
    #[prost(message, optional, tag = "5")]
    created_at: Option<Timestamp>,
    #[prost(message, optional, tag = "6")]
    updated_at: Option<Timestamp>,
    #[prost(message, optional, tag = "7")]
    idle_expires_at: Option<Timestamp>,
    #[prost(message, optional, tag = "8")]
    absolute_expires_at: Option<Timestamp>,
    #[prost(message, optional, tag = "9")]
    expired_at: Option<Timestamp>,
    #[prost(message, optional, tag = "10")]
    logout_at: Option<Timestamp>,
    #[prost(string, tag = "11")]
    status: String,
    #[prost(message, optional, tag = "12")]
    last_active_at: Option<Timestamp>,
}

/// The provider has no idle timeout, so a session idles out no sooner than it expires.
fn session_details(record: &SessionRecord) -> SessionDetails {
    let device = user_agent::parse(&record.user_agent);
    let (logout_at, expired_at) = end_times(record);
    let expires_at = timestamp(Some(record.absolute_expires_at()));
    SessionDetails {
        session_id: record.sid.clone(),
        user_id: record.user_id.clone(),
        authenticated_organizations: vec![record.organization_id.clone()],
        organization_id: record.organization_id.clone(),
        created_at: timestamp(Some(record.created_at)),
        updated_at: timestamp(Some(record.updated_at)),
        idle_expires_at: expires_at,
        absolute_expires_at: expires_at,
        expired_at: timestamp(expired_at),
        logout_at: timestamp(logout_at),
        status: record.status.as_str().to_owned(),
        // Where a request came from is not known to the provider behind the app's router.
        device: Some(DeviceDetails {
            user_agent: record.user_agent.clone(),
            os: device.os,
            os_version: device.os_version,
            browser: device.browser,
            browser_version: device.browser_version,
            device_type: device.device_type,
            ip: String::new(),
            location: Some(Location::default()),
        }),
        last_active_at: timestamp(Some(record.last_active_at)),
        authenticated_clients: record
            .clients
            .iter()
            .map(|client_id| AuthenticatedClients {
                client_id: client_id.clone(),
                organization_id: record.organization_id.clone(),
            })
            .collect(),
    }
}

fn revoked_session_details(record: &SessionRecord) -> RevokedSessionDetails {
    let (logout_at, expired_at) = end_times(record);
    let expires_at = timestamp(Some(record.absolute_expires_at()));
    RevokedSessionDetails {
        session_id: record.sid.clone(),
        user_id: record.user_id.clone(),
        created_at: timestamp(Some(record.created_at)),
        updated_at: timestamp(Some(record.updated_at)),
        idle_expires_at: expires_at,
        absolute_expires_at: expires_at,
        expired_at: timestamp(expired_at),
        logout_at: timestamp(logout_at),
        status: record.status.as_str().to_owned(),
        last_active_at: timestamp(Some(record.last_active_at)),
    }
}

fn list_query(request: &UserSessionDetailsRequest) -> Result<ListQuery, RpcError> {
    let filter = request.filter.clone().unwrap_or_default();
    let mut query = ListQuery {
        page_size: ListQuery::page_size_from(usize::try_from(request.page_size).unwrap_or(0)),
        offset: ListQuery::offset_from(&request.page_token)?,
        created_from: seconds(filter.start_time),
        created_before: seconds(filter.end_time),
        ..ListQuery::default()
    };
    for status in &filter.status {
        query.add_status(status)?;
    }
    Ok(query)
}

/// A failed call, as gRPC reports it: a status and message with no response message.
#[derive(Debug)]
struct Status {
    code: u16,
    message: String,
}

impl From<RpcError> for Status {
    fn from(error: RpcError) -> Status {
        let (code, message) = error.grpc_status();
        Status {
            code,
            message: message.to_owned(),
        }
    }
}

fn status(code: u16, message: &str) -> Status {
    Status {
        code,
        message: message.to_owned(),
    }
}

fn decode<M: Message + Default>(body: &[u8]) -> Result<M, Status> {
    M::decode(unframe(body)?).map_err(|_| {
        status(
            INVALID_ARGUMENT,
            "the request message is not valid protobuf",
        )
    })
}

/// The one length-prefixed message of a unary request: a compressed-flag byte (this server
/// advertises no compression, so it must be 0), a big-endian length, then exactly that many bytes.
fn unframe(body: &[u8]) -> Result<&[u8], Status> {
    let malformed = || {
        status(
            INTERNAL,
            "the request is not one length-prefixed gRPC message",
        )
    };
    let (prefix, message) = body.split_at_checked(5).ok_or_else(malformed)?;
    if prefix[0] != 0 {
        return Err(status(
            UNIMPLEMENTED,
            "compressed requests are not supported",
        ));
    }
    let length = u32::from_be_bytes([prefix[1], prefix[2], prefix[3], prefix[4]]);
    if usize::try_from(length).ok() != Some(message.len()) {
        return Err(malformed());
    }
    Ok(message)
}

fn frame(message: &impl Message) -> Bytes {
    let payload = message.encode_to_vec();
    let mut framed = Vec::with_capacity(5 + payload.len());
    framed.push(0);
    framed.extend_from_slice(
        &u32::try_from(payload.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    framed.extend_from_slice(&payload);
    Bytes::from(framed)
}

/// Runs one method: the request's message in, the response's message out.
fn dispatch(idp: &Arc<DevIdp>, method: &str, body: &[u8]) -> Result<Bytes, Status> {
    match method {
        "GetSession" => {
            let request: SessionDetailsRequest = decode(body)?;
            let record = sessions_api::session(idp, &request.session_id)?;
            Ok(frame(&session_details(&record)))
        }
        "GetUserSessions" => {
            let request: UserSessionDetailsRequest = decode(body)?;
            let page = sessions_api::user_sessions(idp, &request.user_id, &list_query(&request)?)?;
            Ok(frame(&UserSessionDetails {
                sessions: page.sessions.iter().map(session_details).collect(),
                next_page_token: page.next_page_token,
                prev_page_token: page.prev_page_token,
                total_size: u32::try_from(page.total_size).unwrap_or(u32::MAX),
            }))
        }
        "RevokeSession" => {
            let request: RevokeSessionRequest = decode(body)?;
            let record = sessions_api::revoke(idp, &request.session_id)?;
            Ok(frame(&RevokeSessionResponse {
                revoked_session: Some(revoked_session_details(&record)),
            }))
        }
        "RevokeAllUserSessions" => {
            let request: RevokeAllUserSessionsRequest = decode(body)?;
            let revoked = sessions_api::revoke_all(idp, &request.user_id)?;
            Ok(frame(&RevokeAllUserSessionsResponse {
                total_revoked: u32::try_from(revoked.len()).unwrap_or(u32::MAX),
                revoked_sessions: revoked.iter().map(revoked_session_details).collect(),
            }))
        }
        _ => Err(status(UNIMPLEMENTED, "unknown SessionService method")),
    }
}

fn grpc_headers(response: &mut Response) {
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
}

/// `grpc-status` and a percent-encoded `grpc-message`, as the spec writes them.
fn status_headers(code: u16, message: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("grpc-status", HeaderValue::from(code));
    let encoded = percent_encoding::utf8_percent_encode(message, GRPC_MESSAGE).to_string();
    if let Ok(value) = HeaderValue::from_str(&encoded) {
        headers.insert("grpc-message", value);
    }
    headers
}

/// A successful call: the message, then trailers with status 0.
fn answer(message: Bytes) -> Response {
    let trailers = status_headers(0, "");
    let body = Full::new(message).with_trailers(std::future::ready(Some(Ok(trailers))));
    let mut response = Response::new(Body::new(body));
    grpc_headers(&mut response);
    response
}

/// A failed call, "Trailers-Only": HTTP 200 with the status in the headers and no body.
fn refuse(failure: Status) -> Response {
    let mut response = Response::new(Body::empty());
    grpc_headers(&mut response);
    response
        .headers_mut()
        .extend(status_headers(failure.code, &failure.message));
    response
}

/// `POST /scalekit.v1.sessions.SessionService/{method}`, authorised like the management API.
pub async fn call(
    State(idp): State<Arc<DevIdp>>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let is_grpc = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "application/grpc" || v.starts_with("application/grpc+proto"));
    if !is_grpc {
        // Not a gRPC client: the spec's answer is plain HTTP 415.
        let mut response =
            Response::new(Body::from("SessionService speaks gRPC (application/grpc)"));
        *response.status_mut() = StatusCode::UNSUPPORTED_MEDIA_TYPE;
        return response;
    }
    if let Err(error) = authenticate(&idp, &headers) {
        return refuse(error.into());
    }
    let body = match axum::body::to_bytes(body, MAX_REQUEST).await {
        Ok(body) => body,
        Err(_) => return refuse(status(INVALID_ARGUMENT, "the request is too large")),
    };
    match dispatch(&idp, &method, &body) {
        Ok(message) => answer(message),
        Err(failure) => refuse(failure),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn o8_grpc_frames_hold_exactly_one_uncompressed_message() {
        let request = SessionDetailsRequest {
            session_id: "ses_1".into(),
        };
        let framed = frame(&request);
        assert_eq!(framed[0], 0);
        assert_eq!(decode::<SessionDetailsRequest>(&framed).unwrap(), request);
        let mut compressed = framed.to_vec();
        compressed[0] = 1;
        assert_eq!(unframe(&compressed).unwrap_err().code, UNIMPLEMENTED);
        assert_eq!(
            unframe(&framed[..framed.len() - 1]).unwrap_err().code,
            INTERNAL
        );
        assert_eq!(unframe(&[0, 0]).unwrap_err().code, INTERNAL);
    }

    #[test]
    fn o8_grpc_filters_map_to_the_rest_query() {
        let request = UserSessionDetailsRequest {
            user_id: "usr_1".into(),
            page_size: 0,
            page_token: "10".into(),
            filter: Some(UserSessionFilter {
                status: vec!["active".into(), "ACTIVE".into(), "logout".into()],
                start_time: timestamp(Some(100)),
                end_time: timestamp(Some(200)),
            }),
        };
        let query = list_query(&request).unwrap();
        assert_eq!(query.offset, 10);
        assert_eq!(query.statuses.len(), 2);
        assert_eq!(
            (query.created_from, query.created_before),
            (Some(100), Some(200))
        );
        let mut backwards = request.clone();
        backwards.filter = Some(UserSessionFilter {
            start_time: timestamp(Some(200)),
            end_time: timestamp(Some(100)),
            ..UserSessionFilter::default()
        });
        assert!(list_query(&backwards).unwrap().check_window().is_err());
        let mut unknown = request;
        unknown.filter = Some(UserSessionFilter {
            status: vec!["gone".into()],
            ..UserSessionFilter::default()
        });
        assert!(list_query(&unknown).is_err());
    }
}
