//! The claims of a token the session holds, laid out for display. The token came out of the
//! sealed session cookie, and was validated when it arrived, so its payload is read without
//! checking the signature again (checklist C7).

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, OnceLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

use crate::account::{ClaimRow, ClaimsHtml, SessionClaims};
use crate::components::claims_table::rows_html;
use crate::components::time_text::format_utc;
use scalekit_auth::bearer::MAX_AGE;
use scalekit_auth::Session;

/// Values longer than this are shortened in the middle.
const MAX_VALUE_CHARS: usize = 64;
/// Claims that hold times (seconds since the epoch).
const TIME_CLAIMS: [&str; 4] = ["exp", "iat", "nbf", "auth_time"];

/// The payload of a JWT, without checking it.
pub fn payload(token: &str) -> Option<Map<String, Value>> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn shorten(text: String) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= MAX_VALUE_CHARS {
        return text;
    }
    let head: String = chars[..40].iter().collect();
    let tail: String = chars[chars.len() - 16..].iter().collect();
    format!("{head}…{tail}")
}

fn render(name: &str, value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) if TIME_CLAIMS.contains(&name) => match n.as_u64() {
            Some(secs) => format!("{secs} ({})", format_utc(secs)),
            None => n.to_string(),
        },
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// Tables already laid out, by session: the dashboard shows the same tokens on every visit until
/// a refresh, and laying one out (decode, parse, format) was an eighth of its render time.
///
/// Keyed by the session id (random, one per sign-in), so an entry can only ever be shown to the
/// session it was made for. It holds a hash of the fingerprints of the tokens it was made from
/// (taken when they arrived, kept in the session), so a refresh lays the tables out again. The
/// hash only has to tell this session's successive tokens apart: hashing the tokens themselves on
/// every visit (SHA-256, then SipHash over about 2 KB) cost as much as the layout it saved.
static LAID_OUT: OnceLock<LaidOut> = OnceLock::new();
/// Enough for every active session of a busy instance; a few MB at most.
const LAID_OUT_CAPACITY: usize = 2_000;

struct LaidOut {
    hasher: RandomState,
    entries: Mutex<HashMap<String, Entry>>,
}

struct Entry {
    tokens: u64,
    claims: Arc<SessionClaims>,
    until: u64,
}

/// The tables for `session`'s tokens, laid out once per session and token set, for at most
/// [`MAX_AGE`].
pub fn session_claims_cached(session: &Session, now: u64) -> Arc<SessionClaims> {
    let cache = LAID_OUT.get_or_init(|| LaidOut {
        hasher: RandomState::new(),
        entries: Mutex::new(HashMap::new()),
    });
    let fingerprints = session.fingerprints();
    let tokens = cache
        .hasher
        .hash_one((&fingerprints.access_token, &fingerprints.id_token));
    let mut entries = cache.entries.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(entry) = entries.get(session.id()) {
        if entry.tokens == tokens && now < entry.until {
            return entry.claims.clone();
        }
    }
    let id_token = session.id_token().map(claims_table).unwrap_or_default();
    let access_token = claims_table(session.access_token());
    let html = ClaimsHtml {
        id_token: rows_html(&id_token),
        access_token: rows_html(&access_token),
    };
    let claims = Arc::new(SessionClaims {
        id_token,
        access_token,
        html: Some(Arc::new(html)),
    });
    if entries.len() >= LAID_OUT_CAPACITY {
        entries.retain(|_, entry| entry.until > now);
    }
    if entries.len() >= LAID_OUT_CAPACITY {
        // Still full of live sessions: start again (a table is only laid out again).
        entries.clear();
    }
    let until = now + MAX_AGE.min(session.access_token_expires_at().saturating_sub(now));
    entries.insert(
        session.id().to_string(),
        Entry {
            tokens,
            claims: claims.clone(),
            until,
        },
    );
    claims
}

/// The rows for `token`, sorted by claim name; empty if it is not a readable JWT.
pub fn claims_table(token: &str) -> Vec<ClaimRow> {
    let Some(claims) = payload(token) else {
        return Vec::new();
    };
    let mut rows: Vec<ClaimRow> = claims
        .iter()
        .map(|(name, value)| ClaimRow {
            name: name.clone(),
            value: shorten(render(name, value)),
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    rows
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn token(claims: Value) -> String {
        format!(
            "e30.{}.sig",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap())
        )
    }

    #[test]
    fn rows_are_sorted_readable_and_short() {
        let rows = claims_table(&token(json!({
            "sub": "usr_1", "exp": 0, "roles": ["admin", "viewer"],
            "long": "x".repeat(100)
        })));
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["exp", "long", "roles", "sub"]);
        assert_eq!(rows[0].value, "0 (1970-01-01 00:00:00 UTC)");
        assert!(rows[1].value.chars().count() <= 57 && rows[1].value.contains('…'));
        assert_eq!(rows[2].value, "admin, viewer");
    }

    #[test]
    fn garbage_gives_no_rows() {
        assert!(claims_table("not a token").is_empty());
        assert!(claims_table("a.%%%.c").is_empty());
    }

    /// A session as the cookie holds it, with these tokens.
    fn session(id: &str, access_token: &str, id_token: &str) -> Session {
        serde_json::from_value(json!({
            "id": id, "issuer": "https://env.example",
            "user": { "sub": "usr_1", "name": "Ada", "email": null, "organization_id": null,
                      "roles": [], "permissions": [] },
            "access_token": access_token, "access_token_expires_at": 1_800_000_300u64,
            "refresh_token": null, "id_token": id_token, "signed_in_at": 0, "last_seen": 0
        }))
        .expect("a session")
    }

    #[test]
    fn cached_tables_are_per_session_and_follow_its_tokens() {
        let now = 1_800_000_000;
        let first = token(json!({ "sub": "usr_cache_1", "exp": 0 }));
        let second = token(json!({ "sub": "usr_cache_2" }));
        let id_token = token(json!({ "sub": "usr_cache_1", "name": "Ada" }));
        let ada = session("cache-session-a", &first, &id_token);
        let rows = session_claims_cached(&ada, now);
        assert_eq!(rows.access_token, claims_table(&first));
        assert_eq!(rows.id_token, claims_table(&id_token));
        assert!(Arc::ptr_eq(&rows, &session_claims_cached(&ada, now + 1)));
        // Another session with the same tokens has its own entry; the same session after a
        // refresh (new tokens) gets new tables.
        let other = session("cache-session-b", &first, &id_token);
        assert!(!Arc::ptr_eq(&rows, &session_claims_cached(&other, now)));
        let refreshed = session("cache-session-a", &second, &id_token);
        assert_eq!(
            session_claims_cached(&refreshed, now).access_token[0].value,
            "usr_cache_2"
        );
        // Past the cache's lifetime the tables are laid out again (same rows).
        let later = session_claims_cached(&ada, now + MAX_AGE + 1);
        assert!(!Arc::ptr_eq(&rows, &later));
        assert_eq!(rows, later);
    }
}
