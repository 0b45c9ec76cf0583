//! Scalekit's user-sessions REST API, for "sign out everywhere": a user's sessions at the
//! provider (`GET {env}/api/v1/users/{user_id}/sessions`), revoking one
//! (`POST {env}/api/v1/sessions/{session_id}/revoke`) and revoking all of a user's
//! (`POST {env}/api/v1/users/{user_id}/sessions/revoke`). Authorised like the API-client calls,
//! by the app's own client-credentials token ([`ManagementClient`]).
//!
//! Answers are checked before anything is made of them: ids must look like Scalekit's
//! (`ses_123…`, `usr_123…`), every listed session must belong to the user asked about (the
//! session panel decides from this list which sessions the caller may end), and sizes are bounded
//! (pages, sessions, text).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::management::{ManagementClient, ManagementError};

/// At most this many sessions are read (and shown) per user.
pub const MAX_SESSIONS: usize = 100;
/// Sessions asked for per page, and pages read at most.
const PAGE_SIZE: usize = 50;
const MAX_PAGES: usize = 4;
/// Text from the provider (user agent, browser name…) is cut to this many characters.
const MAX_TEXT: usize = 200;
/// Longest page token passed back to the provider.
const MAX_PAGE_TOKEN: usize = 512;
/// Longest id accepted (Scalekit's are a prefix and 18 or 19 digits).
const MAX_ID: usize = 40;

/// One of a user's sessions at the provider, as the session panel shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProviderSession {
    /// `ses_…`: the `sid` claim of the session's tokens.
    pub session_id: String,
    /// `ACTIVE`, `LOGOUT`, `REVOKED`, `EXPIRED`.
    pub status: String,
    /// When it was created, in seconds since the epoch, if the answer says.
    pub created_at: Option<u64>,
    /// When it was last active, in seconds since the epoch, if the answer says.
    pub last_active_at: Option<u64>,
    /// The browser that signed in.
    pub device: Device,
}

/// What the provider tells of the browser that signed in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Device {
    /// The browser's `User-Agent`.
    pub user_agent: String,
    /// The browser's name.
    pub browser: String,
    /// The browser's version.
    pub browser_version: String,
    /// The operating system.
    pub os: String,
    /// The operating system's version.
    pub os_version: String,
    /// The kind of device, as the provider names it.
    pub device_type: String,
}

impl ProviderSession {
    /// Whether the provider reports the session `ACTIVE`.
    pub fn is_active(&self) -> bool {
        self.status == "ACTIVE"
    }
}

fn is_id(value: &str, prefix: &str) -> bool {
    value.len() <= MAX_ID
        && value
            .strip_prefix(prefix)
            .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// `^ses_[0-9]+$` (and not absurdly long).
pub fn is_session_id(value: &str) -> bool {
    is_id(value, "ses_")
}

/// `^usr_[0-9]+$` (and not absurdly long).
pub fn is_user_id(value: &str) -> bool {
    is_id(value, "usr_")
}

/// Printable text of at most [`MAX_TEXT`] characters (control characters dropped).
fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_TEXT)
        .collect()
}

/// Seconds since the epoch of an RFC 3339 UTC time (`2026-11-22T10:41:07Z`, fractions of a
/// second allowed and dropped), as proto3 JSON writes timestamps. Anything else is `None`.
pub fn parse_rfc3339(value: &str) -> Option<u64> {
    let bytes = value.as_bytes();
    if bytes.len() < 20 || bytes.len() > 40 || !value.ends_with('Z') {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = value.get(range)?;
        if part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    if bytes[4] != b'-' || bytes[7] != b'-' || !matches!(bytes[10], b'T' | b't') {
        return None;
    }
    if bytes[13] != b':' || bytes[16] != b':' {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    let rest = &value[19..value.len() - 1];
    if !rest.is_empty() {
        let fraction = rest.strip_prefix('.')?;
        if fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let days = crate::time::days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second;
    u64::try_from(secs).ok()
}

fn time(value: &Value) -> Option<u64> {
    value.as_str().and_then(parse_rfc3339)
}

fn unexpected(what: &str) -> ManagementError {
    ManagementError::Unavailable(format!("unexpected answer from the sessions API: {what}"))
}

/// One entry of a list answer, which must be a session of `user_id`.
fn parse_session(value: &Value, user_id: &str) -> Result<ProviderSession, ManagementError> {
    let session_id = value["session_id"].as_str().unwrap_or_default();
    if !is_session_id(session_id) {
        return Err(unexpected("a session id is malformed"));
    }
    if value["user_id"].as_str() != Some(user_id) {
        return Err(unexpected("a session of another user"));
    }
    let device = &value["device"];
    Ok(ProviderSession {
        session_id: session_id.to_string(),
        status: text(&value["status"]),
        created_at: time(&value["created_at"]),
        last_active_at: time(&value["last_active_at"]),
        device: Device {
            user_agent: text(&device["user_agent"]),
            browser: text(&device["browser"]),
            browser_version: text(&device["browser_version"]),
            os: text(&device["os"]),
            os_version: text(&device["os_version"]),
            device_type: text(&device["device_type"]),
        },
    })
}

/// The sessions of one list page and the token of the next page, if any.
fn parse_page(
    json: &Value,
    user_id: &str,
) -> Result<(Vec<ProviderSession>, Option<String>), ManagementError> {
    let entries = match &json["sessions"] {
        Value::Array(entries) => entries.as_slice(),
        // proto3 JSON may leave out an empty list.
        Value::Null if json.is_object() => &[],
        _ => return Err(unexpected("no session list")),
    };
    if entries.len() > MAX_SESSIONS {
        return Err(unexpected("too many sessions in one page"));
    }
    let sessions = entries
        .iter()
        .map(|entry| parse_session(entry, user_id))
        .collect::<Result<Vec<_>, _>>()?;
    let next = match json["next_page_token"].as_str() {
        None | Some("") => None,
        Some(token) if token.len() <= MAX_PAGE_TOKEN && !token.chars().any(char::is_control) => {
            Some(token.to_string())
        }
        Some(_) => return Err(unexpected("a malformed page token")),
    };
    Ok((sessions, next))
}

fn invalid_id() -> ManagementError {
    ManagementError::Refused {
        status: 400,
        message: "invalid identifier".into(),
    }
}

/// How long a user's session list is reused by the session that read it: the session panel
/// renders it on every visit, and each listing is a call to the provider's management API
/// (rate-limited at Scalekit). A session begun elsewhere shows up this much later at most (a
/// session's first view always asks); this instance's own revocations drop the lists at once.
pub const LIST_REUSE: Duration = Duration::from_secs(5);
/// Most users whose lists are kept; past it the whole cache is dropped (it refills in seconds).
const MAX_LISTS: usize = 10_000;

/// A user's list and when it was read.
type Listed = (Instant, Arc<Vec<ProviderSession>>);

/// Recent session lists by user id and the viewing session.
#[derive(Default)]
pub struct ListedSessions(Mutex<HashMap<String, Listed>>);

impl ListedSessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Listed>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn key(user_id: &str, viewer: &str) -> String {
        format!("{user_id} {viewer}")
    }

    fn fresh(&self, user_id: &str, viewer: &str) -> Option<Arc<Vec<ProviderSession>>> {
        self.lock()
            .get(&Self::key(user_id, viewer))
            .filter(|(at, _)| at.elapsed() < LIST_REUSE)
            .map(|(_, list)| list.clone())
    }

    fn keep(&self, user_id: &str, viewer: &str, list: Arc<Vec<ProviderSession>>) {
        let mut lists = self.lock();
        if lists.len() >= MAX_LISTS {
            lists.clear();
        }
        lists.insert(Self::key(user_id, viewer), (Instant::now(), list));
    }

    /// Forgets the lists of `user_id`, or every list naming `session_id`.
    fn forget(&self, user_id: Option<&str>, session_id: Option<&str>) {
        self.lock().retain(|key, (_, list)| {
            user_id.is_none_or(|user| key.split(' ').next() != Some(user))
                && !session_id.is_some_and(|id| list.iter().any(|s| s.session_id == id))
        });
    }
}

impl ManagementClient {
    /// The user's active sessions at the provider, newest first as the provider lists them (at
    /// most [`MAX_SESSIONS`]); an answer up to [`LIST_REUSE`] old is reused.
    /// `viewer` is the asking session (our id): each session's first view asks the provider.
    pub async fn list_user_sessions(
        &self,
        user_id: &str,
        viewer: &str,
    ) -> Result<Vec<ProviderSession>, ManagementError> {
        if let Some(list) = self.listed_sessions.fresh(user_id, viewer) {
            return Ok(list.as_ref().clone());
        }
        let list = self.fetch_user_sessions(user_id).await?;
        self.listed_sessions
            .keep(user_id, viewer, Arc::new(list.clone()));
        Ok(list)
    }

    async fn fetch_user_sessions(
        &self,
        user_id: &str,
    ) -> Result<Vec<ProviderSession>, ManagementError> {
        if !is_user_id(user_id) {
            return Err(invalid_id());
        }
        let base = format!(
            "{}/api/v1/users/{user_id}/sessions",
            self.provider().environment_url()
        );
        let mut sessions: Vec<ProviderSession> = Vec::new();
        let mut page_token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query = vec![
                ("page_size", PAGE_SIZE.to_string()),
                ("filter.status", "ACTIVE".to_string()),
            ];
            if let Some(token) = page_token.take() {
                query.push(("page_token", token));
            }
            let request = self.provider().http().get(&base).query(&query);
            let json = self.send(request).await?;
            let (page, next) = parse_page(&json, user_id)?;
            for session in page {
                if session.is_active()
                    && sessions.len() < MAX_SESSIONS
                    && !sessions.iter().any(|s| s.session_id == session.session_id)
                {
                    sessions.push(session);
                }
            }
            match next {
                Some(next) if sessions.len() < MAX_SESSIONS => page_token = Some(next),
                _ => break,
            }
        }
        Ok(sessions)
    }

    /// Revokes one session at the provider (which then sends back-channel logout tokens).
    pub async fn revoke_session(&self, session_id: &str) -> Result<(), ManagementError> {
        if !is_session_id(session_id) {
            return Err(invalid_id());
        }
        self.listed_sessions.forget(None, Some(session_id));
        let url = format!(
            "{}/api/v1/sessions/{session_id}/revoke",
            self.provider().environment_url()
        );
        let json = self
            .send(self.provider().http().post(url).json(&json!({})))
            .await?;
        if json["revoked_session"]["session_id"].as_str() != Some(session_id) {
            return Err(unexpected("the revoked session is not the one asked for"));
        }
        Ok(())
    }

    /// Revokes every active session of the user at the provider; answers how many were revoked.
    pub async fn revoke_all_user_sessions(&self, user_id: &str) -> Result<u64, ManagementError> {
        if !is_user_id(user_id) {
            return Err(invalid_id());
        }
        self.listed_sessions.forget(Some(user_id), None);
        let url = format!(
            "{}/api/v1/users/{user_id}/sessions/revoke",
            self.provider().environment_url()
        );
        let json = self
            .send(self.provider().http().post(url).json(&json!({})))
            .await?;
        let revoked = match &json["revoked_sessions"] {
            Value::Array(revoked) => revoked.as_slice(),
            Value::Null if json.is_object() => &[],
            _ => return Err(unexpected("no list of revoked sessions")),
        };
        for session in revoked {
            if !session["session_id"].as_str().is_some_and(is_session_id) {
                return Err(unexpected("a revoked session id is malformed"));
            }
            if session["user_id"]
                .as_str()
                .is_some_and(|owner| owner != user_id)
            {
                return Err(unexpected("a revoked session of another user"));
            }
        }
        // proto3 JSON may write an integer as a string.
        let total = &json["total_revoked"];
        Ok(total
            .as_u64()
            .or_else(|| total.as_str().and_then(|s| s.parse().ok()))
            .unwrap_or(revoked.len() as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn o8_session_lists_are_reused_per_viewer_and_dropped_on_revocation() {
        let lists = ListedSessions::default();
        let one = ProviderSession {
            session_id: "ses_1".into(),
            ..ProviderSession::default()
        };
        lists.keep("usr_1", "ours-a", Arc::new(vec![one]));
        assert!(lists.fresh("usr_1", "ours-a").is_some());
        assert!(
            lists.fresh("usr_1", "ours-b").is_none(),
            "another session asks itself"
        );
        lists.forget(None, Some("ses_1"));
        assert!(
            lists.fresh("usr_1", "ours-a").is_none(),
            "revoking drops lists naming it"
        );
        lists.keep("usr_1", "ours-a", Arc::new(Vec::new()));
        lists.keep("usr_2", "ours-c", Arc::new(Vec::new()));
        lists.forget(Some("usr_1"), None);
        assert!(lists.fresh("usr_1", "ours-a").is_none());
        assert!(
            lists.fresh("usr_2", "ours-c").is_some(),
            "other users keep theirs"
        );
    }

    #[test]
    fn o8_ids_must_look_like_scalekits() {
        assert!(is_session_id("ses_123456789012345678"));
        assert!(is_user_id("usr_100000000000000001"));
        for bad in [
            "",
            "ses_",
            "ses_12a",
            "ses_1/../x",
            "usr_1",
            " ses_1",
            "ses_1\n",
            "ses_00000000000000000000000000000000000001",
        ] {
            assert!(!is_session_id(bad), "{bad:?}");
        }
        assert!(!is_user_id("ses_1"));
        assert!(!is_user_id("usr_1?x=1"));
    }

    #[test]
    fn o8_rfc3339_times_parse_to_epoch_seconds() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-02T00:01:00Z"), Some(86_460));
        assert_eq!(parse_rfc3339("2026-11-22T10:41:07Z"), Some(1_795_344_067));
        assert_eq!(
            parse_rfc3339("2026-11-22T10:41:07.123456Z"),
            Some(1_795_344_067)
        );
        for secs in [0, 951_782_400, 1_795_344_067, 4_102_444_800] {
            let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
            let text = humantime::format_rfc3339_seconds(time).to_string();
            assert_eq!(parse_rfc3339(&text), Some(secs), "{text}");
        }
        for bad in [
            "",
            "2026-11-22",
            "2026-11-22T10:41:07",
            "2026-11-22T10:41:07+01:00",
            "2026-13-22T10:41:07Z",
            "2026-11-22T10:41:07.Z",
            "2026-11-22 10:41:07Z",
            "1969-12-31T23:59:59Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn o8_list_pages_are_checked_and_bounded() {
        let page = json!({
            "sessions": [{
                "session_id": "ses_1",
                "user_id": "usr_1",
                "status": "ACTIVE",
                "created_at": "1970-01-01T00:01:00Z",
                "last_active_at": null,
                "device": { "user_agent": format!("a\u{7}{}", "x".repeat(500)), "browser": "Firefox" },
            }],
            "next_page_token": "10",
            "total_size": 11,
        });
        let (sessions, next) = parse_page(&page, "usr_1").unwrap();
        assert_eq!(next.as_deref(), Some("10"));
        let session = &sessions[0];
        assert_eq!(session.session_id, "ses_1");
        assert!(session.is_active());
        assert_eq!(session.created_at, Some(60));
        assert_eq!(session.last_active_at, None);
        assert_eq!(session.device.browser, "Firefox");
        assert_eq!(session.device.user_agent.chars().count(), MAX_TEXT);
        assert!(session.device.user_agent.starts_with("ax"));

        assert!(
            parse_page(&page, "usr_2").is_err(),
            "another user's session"
        );
        let mut bad_id = page.clone();
        bad_id["sessions"][0]["session_id"] = json!("ses_1; drop");
        assert!(parse_page(&bad_id, "usr_1").is_err());
        let too_many = json!({ "sessions": vec![page["sessions"][0].clone(); MAX_SESSIONS + 1] });
        assert!(parse_page(&too_many, "usr_1").is_err());
        assert!(parse_page(&json!({ "sessions": "no" }), "usr_1").is_err());
        assert!(parse_page(&json!(null), "usr_1").is_err());
        let (none, next) = parse_page(&json!({}), "usr_1").unwrap();
        assert!(none.is_empty() && next.is_none());
    }
}
