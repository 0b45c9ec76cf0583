//! The claims of a token the session holds, laid out for display. The token came out of the
//! sealed session cookie, and was validated when it arrived, so its payload is read without
//! checking the signature again (checklist C7).

use std::sync::{Arc, OnceLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

use crate::account::ClaimRow;
use crate::components::time_text::format_utc;
use scalekit_auth::bearer::{VerifiedTokens, MAX_AGE};

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

/// Tables already laid out, by token: the dashboard shows the same tokens on every visit until a
/// refresh, and laying one out (decode, parse, format) was an eighth of its render time.
static LAID_OUT: OnceLock<VerifiedTokens<Arc<Vec<ClaimRow>>>> = OnceLock::new();
/// Enough for every active session of a busy instance; a few MB at most.
const LAID_OUT_CAPACITY: usize = 2_000;

/// [`claims_table`], remembered for a few minutes (the rows depend on the token's text only).
pub fn claims_table_cached(token: &str, now: u64) -> Arc<Vec<ClaimRow>> {
    let cache = LAID_OUT.get_or_init(|| VerifiedTokens::new(LAID_OUT_CAPACITY));
    if let Some(rows) = cache.get(token, now) {
        return rows;
    }
    let rows = Arc::new(claims_table(token));
    cache.insert(token, rows.clone(), now + MAX_AGE, now);
    rows
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

    #[test]
    fn cached_tables_are_the_same_rows_and_differ_per_token() {
        let first = token(json!({ "sub": "usr_cache_1", "exp": 0 }));
        let second = token(json!({ "sub": "usr_cache_2" }));
        let now = 1_800_000_000;
        let rows = claims_table_cached(&first, now);
        assert_eq!(*rows, claims_table(&first));
        assert!(Arc::ptr_eq(&rows, &claims_table_cached(&first, now + 1)));
        assert_eq!(claims_table_cached(&second, now)[0].value, "usr_cache_2");
        // Past the cache's lifetime the table is laid out again (same rows).
        let later = claims_table_cached(&first, now + MAX_AGE + 1);
        assert!(!Arc::ptr_eq(&rows, &later));
        assert_eq!(rows, later);
    }
}
