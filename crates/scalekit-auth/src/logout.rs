//! The `state` sent with RP-initiated logout and checked when the provider sends the browser back
//! (checklist O4). It is sealed with the cookie key rather than stored in a cookie, because the
//! logout response's `Clear-Site-Data` removes every cookie.

use tower_cookies::Key;

use super::sealed::{open, seal};

/// A logout round trip must come back within this time.
pub const LOGOUT_STATE_TTL_SECS: u64 = 600;
/// Associated data that makes a logout state useless as anything else.
const PURPOSE: &str = "logout-state";

/// A new `state` for RP-initiated logout: the issue time (`now`, seconds since the epoch), sealed
/// with the cookie key under a purpose of its own. [`check_logout_state`] accepts it for
/// [`LOGOUT_STATE_TTL_SECS`]; nothing records its use, so it is not single-use.
pub fn issue_logout_state(key: &Key, now: u64) -> String {
    seal(key, PURPOSE, &now.to_string())
}

/// True when `state` is one we issued, within its lifetime.
pub fn check_logout_state(key: &Key, state: &str, now: u64) -> bool {
    open(key, PURPOSE, state)
        .and_then(|issued| issued.parse::<u64>().ok())
        .is_some_and(|issued| issued <= now && now - issued <= LOGOUT_STATE_TTL_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn o4_logout_state_is_ours_and_fresh() {
        let key = Key::generate();
        let state = issue_logout_state(&key, 1000);
        assert!(check_logout_state(&key, &state, 1000 + 60));
        assert!(!check_logout_state(
            &key,
            &state,
            1000 + LOGOUT_STATE_TTL_SECS + 1
        ));
        assert!(!check_logout_state(&Key::generate(), &state, 1000));
        assert!(!check_logout_state(&key, "forged", 1000));
    }
}
