//! The app's cookies: the session (sealed, split into pieces when long) and the sign-in
//! transaction. One place decides names and attributes, so a removal always matches what was set
//! (checklist C1, C9, O3): `__Host-` prefix, `Secure`, `HttpOnly`, `Path=/`, no `Domain`,
//! `SameSite=Lax`. Lax rather than Strict because the first request after the provider's redirect
//! is cross-site in origin, and Strict cookies would not be sent on it; cross-site posts are
//! stopped by the CSRF layer instead (C2).

use tower_cookies::cookie::time::Duration;
use tower_cookies::cookie::SameSite;
use tower_cookies::{Cookie, Cookies, Key};

use super::sealed::{open, seal, split, MAX_PIECES};
use super::session::Session;
use super::transaction::{Transaction, TRANSACTION_TTL_SECS};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CookieSettings {
    /// `Secure` and the `__Host-` prefix (https, or a loopback host in development).
    pub secure: bool,
}

/// What the request's session cookies held.
#[derive(Debug)]
pub enum SessionCookie {
    Absent,
    /// Present but not ours: tampered, another key, or cut short. Treated as signed out.
    Invalid,
    Present(Box<Session>),
}

impl CookieSettings {
    pub fn session_name(&self) -> &'static str {
        if self.secure {
            "__Host-skit_session"
        } else {
            "skit_session"
        }
    }

    pub fn transaction_name(&self) -> &'static str {
        if self.secure {
            "__Host-skit_signin"
        } else {
            "skit_signin"
        }
    }

    /// Piece `index` of the session: the first has the plain name.
    fn piece_name(&self, index: usize) -> String {
        match index {
            0 => self.session_name().to_string(),
            n => format!("{}_{n}", self.session_name()),
        }
    }

    fn cookie(&self, name: String, value: String, max_age_secs: u64) -> Cookie<'static> {
        let mut cookie = Cookie::new(name, value);
        cookie.set_path("/");
        cookie.set_http_only(true);
        cookie.set_secure(self.secure);
        cookie.set_same_site(SameSite::Lax);
        cookie.set_max_age(Duration::seconds(
            i64::try_from(max_age_secs).unwrap_or(i64::MAX),
        ));
        cookie
    }

    fn removal(&self, name: String) -> Cookie<'static> {
        let mut cookie = self.cookie(name, String::new(), 0);
        cookie.make_removal();
        cookie
    }

    pub fn read_session(&self, cookies: &Cookies, key: &Key) -> SessionCookie {
        let mut sealed = String::new();
        for index in 0..MAX_PIECES {
            match cookies.get(&self.piece_name(index)) {
                Some(piece) => sealed.push_str(piece.value()),
                None if index == 0 => return SessionCookie::Absent,
                None => break,
            }
        }
        match open(key, self.session_name(), &sealed)
            .and_then(|json| serde_json::from_str::<Session>(&json).ok())
        {
            Some(session) => SessionCookie::Present(Box::new(session)),
            None => SessionCookie::Invalid,
        }
    }

    /// Sets the session cookies (a new sealed value each time: fresh random nonce), removing
    /// pieces left over from a longer previous value.
    pub fn write_session(
        &self,
        cookies: &Cookies,
        key: &Key,
        session: &Session,
        max_age_secs: u64,
    ) {
        let Ok(json) = serde_json::to_string(session) else {
            return;
        };
        let pieces = split(&seal(key, self.session_name(), &json));
        if pieces.len() > MAX_PIECES {
            tracing::error!(
                bytes = json.len(),
                "session too large for its cookies; not stored"
            );
            return;
        }
        let written = pieces.len();
        for (index, piece) in pieces.into_iter().enumerate() {
            cookies.add(self.cookie(self.piece_name(index), piece, max_age_secs));
        }
        for index in written..MAX_PIECES {
            let name = self.piece_name(index);
            if cookies.get(&name).is_some() {
                cookies.add(self.removal(name));
            }
        }
    }

    /// Removes every session piece (the first always, so a stale one cannot survive).
    pub fn clear_session(&self, cookies: &Cookies) {
        for index in 0..MAX_PIECES {
            let name = self.piece_name(index);
            if index == 0 || cookies.get(&name).is_some() {
                cookies.add(self.removal(name));
            }
        }
    }

    pub fn write_transaction(&self, cookies: &Cookies, key: &Key, transaction: &Transaction) {
        let Ok(json) = serde_json::to_string(transaction) else {
            return;
        };
        let name = self.transaction_name();
        cookies.add(self.cookie(
            name.to_string(),
            seal(key, name, &json),
            TRANSACTION_TTL_SECS,
        ));
    }

    /// The transaction, if present and ours. Expiry is the caller's check.
    pub fn read_transaction(&self, cookies: &Cookies, key: &Key) -> Option<Transaction> {
        let name = self.transaction_name();
        let cookie = cookies.get(name)?;
        open(key, name, cookie.value()).and_then(|json| serde_json::from_str(&json).ok())
    }

    pub fn clear_transaction(&self, cookies: &Cookies) {
        cookies.add(self.removal(self.transaction_name().to_string()));
    }
}
