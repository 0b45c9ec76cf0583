//! The app's cookies: the session (sealed, split into pieces when long), the sign-in transaction,
//! and sealed values an app keeps for its next page (a secret shown once after a post). One place
//! decides names and attributes, so a removal always matches what was set (checklist C1, C9, O3):
//! `__Host-` prefix, `Secure`, `HttpOnly`, `Path=/`, no `Domain`. The session and transaction are
//! `SameSite=Lax`, because the first request after the provider's redirect is cross-site in origin
//! and Strict cookies would not be sent on it (cross-site posts are stopped by the CSRF layer
//! instead, C2); a value kept for the next page never rides a cross-site request, so it is
//! `Strict`.

use std::sync::Arc;

use http::HeaderMap;
use tower_cookies::cookie::time::Duration;
use tower_cookies::cookie::SameSite;
use tower_cookies::{Cookie, Cookies, Key};

use super::sealed::{open, seal, split, MAX_PIECES};
use super::session::Session;
use super::transaction::{Transaction, TRANSACTION_TTL_SECS};

/// The cookies' names and attributes: every cookie is written and removed through these, so a
/// removal matches what it removes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CookieSettings {
    /// `Secure` and the `__Host-` prefix (https, or a loopback host in development).
    pub secure: bool,
}

/// What the request's session cookies held.
#[derive(Debug)]
pub enum SessionCookie {
    /// No session cookie at all.
    Absent,
    /// Present but not ours: tampered, another key, or cut short. Treated as signed out.
    Invalid,
    /// A session this server's key sealed under the session cookie's name. Its timeouts and the
    /// ended-session records are still to be checked.
    Present(Arc<Session>),
}

impl CookieSettings {
    /// The session cookie's name (`__Host-skit_session` when secure); further pieces append `_1`,
    /// `_2` and so on.
    pub fn session_name(&self) -> &'static str {
        if self.secure {
            "__Host-skit_session"
        } else {
            "skit_session"
        }
    }

    /// The sign-in transaction cookie's name (`__Host-skit_signin` when secure).
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

    /// The name of a value kept for the next page: `__Host-skit_kept_<purpose>` when secure.
    pub fn kept_name(&self, purpose: &str) -> String {
        if self.secure {
            format!("__Host-skit_kept_{purpose}")
        } else {
            format!("skit_kept_{purpose}")
        }
    }

    fn cookie(&self, name: String, value: String, max_age_secs: u64) -> Cookie<'static> {
        self.cookie_with(name, value, max_age_secs, SameSite::Lax)
    }

    fn cookie_with(
        &self,
        name: String,
        value: String,
        max_age_secs: u64,
        same_site: SameSite,
    ) -> Cookie<'static> {
        let mut cookie = Cookie::new(name, value);
        cookie.set_path("/");
        cookie.set_http_only(true);
        cookie.set_secure(self.secure);
        cookie.set_same_site(same_site);
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

    /// The session in the request's cookies: the pieces joined in order (at most `MAX_PIECES`)
    /// and opened with `key` under the session cookie's name. Anything that does not open and parse
    /// is `SessionCookie::Invalid`.
    pub fn read_session(&self, cookies: &Cookies, key: &Key) -> SessionCookie {
        self.open_session(key, |name| cookies.get(name).map(|c| c.value().to_string()))
    }

    /// [`read_session`](Self::read_session) from the request's `Cookie` headers themselves. The
    /// jar parses and percent-decodes every cookie of the request the first time it is used,
    /// which for a session of two 2 KB pieces was a twentieth of a page's cost; a request whose
    /// cookies do not change then never needs it. Our values are base64url, which has nothing
    /// to decode, so a value that needed decoding is not ours and fails to open like any other.
    pub fn read_session_from_headers(&self, headers: &HeaderMap, key: &Key) -> SessionCookie {
        match self.sealed_session_in_headers(headers) {
            None => SessionCookie::Absent,
            Some(sealed) => self.opened(key, &sealed),
        }
    }

    /// The session's sealed value in the request's `Cookie` headers (its pieces joined), `None`
    /// without a session cookie. What [`read_session_from_headers`](Self::read_session_from_headers)
    /// opens.
    /// One pass over the headers: looking each piece up on its own read (and checked) the whole
    /// `Cookie` line once per piece, a twentieth of a page's instructions.
    pub(crate) fn sealed_session_in_headers(&self, headers: &HeaderMap) -> Option<String> {
        let lines = headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|header| header.to_str().ok());
        let mut pieces: [Option<&str>; MAX_PIECES] = [None; MAX_PIECES];
        for (name, value) in sent_cookies(lines) {
            if let Some(index) = self.piece_index(name) {
                // The last of a repeated name wins, as in tower-cookies' jar.
                pieces[index] = Some(value);
            }
        }
        let mut sealed = String::new();
        for piece in pieces.iter().map_while(|piece| *piece) {
            sealed.push_str(piece);
        }
        pieces[0].map(|_| sealed)
    }

    /// Which piece of the session a cookie named `name` is ([`piece_name`](Self::piece_name)).
    fn piece_index(&self, name: &str) -> Option<usize> {
        let rest = name.strip_prefix(self.session_name())?;
        if rest.is_empty() {
            return Some(0);
        }
        let digits = rest.strip_prefix('_')?;
        // Only the names we write: `_1`, not `_01` or `_+1`.
        if digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let index: usize = digits.parse().ok()?;
        (index < MAX_PIECES).then_some(index)
    }

    /// The pieces named for the session, joined in order (at most `MAX_PIECES`); `piece(name)` is
    /// the value of one cookie. `None` without the first.
    fn joined_pieces(&self, piece: impl Fn(&str) -> Option<String>) -> Option<String> {
        let mut sealed = String::new();
        for index in 0..MAX_PIECES {
            match piece(&self.piece_name(index)) {
                Some(value) => sealed.push_str(&value),
                None if index == 0 => return None,
                None => break,
            }
        }
        Some(sealed)
    }

    /// The session a sealed value holds, if it opens with `key` under the session cookie's name
    /// and parses.
    pub(crate) fn open_sealed(&self, key: &Key, sealed: &str) -> Option<Session> {
        open(key, self.session_name(), sealed)
            .and_then(|json| serde_json::from_str::<Session>(&json).ok())
    }

    fn open_session(&self, key: &Key, piece: impl Fn(&str) -> Option<String>) -> SessionCookie {
        match self.joined_pieces(piece) {
            None => SessionCookie::Absent,
            Some(sealed) => self.opened(key, &sealed),
        }
    }

    fn opened(&self, key: &Key, sealed: &str) -> SessionCookie {
        match self.open_sealed(key, sealed) {
            Some(session) => SessionCookie::Present(Arc::new(session)),
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

    /// Sets the sealed transaction cookie, living [`TRANSACTION_TTL_SECS`] (checklist L4).
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

    /// Removes the transaction cookie, with the attributes it was set with.
    pub fn clear_transaction(&self, cookies: &Cookies) {
        cookies.add(self.removal(self.transaction_name().to_string()));
    }

    /// Keeps `value` sealed for the next page, under a name and sealing purpose of its own
    /// (`purpose`: lowercase letters and `_`), for at most `max_age_secs`.
    pub fn write_kept(
        &self,
        cookies: &Cookies,
        key: &Key,
        purpose: &str,
        value: &str,
        max_age_secs: u64,
    ) {
        let name = self.kept_name(purpose);
        let sealed = seal(key, &name, value);
        cookies.add(self.cookie_with(name, sealed, max_age_secs, SameSite::Strict));
    }

    /// The value kept for `purpose`, from the cookies the request arrived with (`sent`: the
    /// values of its `Cookie` headers), and its removal for the next request. Read from the
    /// headers rather than the jar, so asking twice in one request answers the same.
    pub fn take_kept<'a>(
        &self,
        cookies: &Cookies,
        key: &Key,
        purpose: &str,
        sent: impl IntoIterator<Item = &'a str>,
    ) -> Option<String> {
        let name = self.kept_name(purpose);
        let value = sent_cookies(sent)
            .find(|(sent_name, _)| *sent_name == name)
            .map(|(_, value)| value.to_string())?;
        let mut removal = self.cookie_with(name.clone(), String::new(), 0, SameSite::Strict);
        removal.make_removal();
        cookies.add(removal);
        open(key, &name, &value)
    }
}

/// The name and value of each cookie in `Cookie` header values (`a=1; b=2`), as sent.
fn sent_cookies<'a>(
    lines: impl IntoIterator<Item = &'a str>,
) -> impl Iterator<Item = (&'a str, &'a str)> {
    lines
        .into_iter()
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine;

    use super::*;
    use crate::user::User;
    use crate::values::ReturnPath;

    const SETTINGS: CookieSettings = CookieSettings { secure: true };

    fn session(access_token: String) -> Session {
        let session = crate::session::test_session("session-id", "usr_1", 1_000);
        Session {
            user: User {
                permissions: vec!["organization:settings".into()],
                ..session.user.clone()
            },
            access_token,
            access_token_expires_at: 2_000_000_000,
            ..session
        }
    }

    /// A request that arrived carrying these cookies.
    fn request_with(pairs: &[(&str, &str)]) -> Cookies {
        let cookies = Cookies::default();
        for (name, value) in pairs {
            cookies.add(Cookie::new(name.to_string(), value.to_string()));
        }
        cookies
    }

    /// The session these cookies hold, read from the jar and from the `Cookie` header, which
    /// must agree.
    fn read(pairs: &[(&str, &str)], key: &Key) -> SessionCookie {
        let from_jar = SETTINGS.read_session(&request_with(pairs), key);
        let line: Vec<String> = pairs.iter().map(|(n, v)| format!("{n}={v}")).collect();
        let mut headers = HeaderMap::new();
        if let Ok(value) = http::HeaderValue::from_str(&line.join("; ")) {
            headers.insert(http::header::COOKIE, value);
            let from_headers = SETTINGS.read_session_from_headers(&headers, key);
            assert_eq!(format!("{from_jar:?}"), format!("{from_headers:?}"));
        }
        from_jar
    }

    #[test]
    fn c1_the_pieces_are_read_in_one_pass_in_order_up_to_the_first_missing() {
        let sealed = |line: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(
                http::header::COOKIE,
                http::HeaderValue::from_str(line).unwrap(),
            );
            SETTINGS.sealed_session_in_headers(&headers)
        };
        assert_eq!(
            sealed(
                "a=1; __Host-skit_session_1=BB; __Host-skit_session=AA; __Host-skit_session_3=DD"
            )
            .as_deref(),
            Some("AABB"),
            "in order, stopping where _2 is missing"
        );
        assert_eq!(
            sealed("__Host-skit_session=AA; __Host-skit_session_01=x; __Host-skit_session_+1=y; __Host-skit_session_9=z; __Host-skit_sessionx=w")
                .as_deref(),
            Some("AA"),
            "only the names we write"
        );
        assert_eq!(
            sealed("__Host-skit_session=old; __Host-skit_session=new").as_deref(),
            Some("new"),
            "the last of a repeated name, as in the jar"
        );
        assert_eq!(
            sealed("__Host-skit_session_1=BB"),
            None,
            "no first piece, no session"
        );
    }

    #[test]
    fn c7_the_header_reader_finds_the_pieces_among_other_cookies() {
        let key = Key::generate();
        let genuine = session("at".repeat(3000));
        let json = serde_json::to_string(&genuine).unwrap();
        let pieces = split(&seal(&key, SETTINGS.session_name(), &json));
        assert!(
            pieces.len() > 1,
            "a session this large takes several pieces"
        );
        let mut line = vec!["theme=dark".to_string()];
        for (index, piece) in pieces.iter().enumerate() {
            line.push(format!("{}={piece}", SETTINGS.piece_name(index)));
            line.push(format!("other_{index}=x"));
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::COOKIE,
            http::HeaderValue::from_str(&line.join("; ")).unwrap(),
        );
        match SETTINGS.read_session_from_headers(&headers, &key) {
            SessionCookie::Present(found) => assert_eq!(*found, genuine),
            other => panic!("the pieces are found and joined: {other:?}"),
        }
        assert!(matches!(
            SETTINGS.read_session_from_headers(&HeaderMap::new(), &key),
            SessionCookie::Absent
        ));
        // A percent-encoded value is not one of ours: it does not open.
        let encoded = pieces[0].replace('-', "%2D");
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::COOKIE,
            http::HeaderValue::from_str(&format!("{}={encoded}", SETTINGS.piece_name(0))).unwrap(),
        );
        if encoded != pieces[0] {
            assert!(matches!(
                SETTINGS.read_session_from_headers(&headers, &key),
                SessionCookie::Invalid
            ));
        }
    }

    /// Checklist C7: what a cookie says is believed only when this server's key opened it under
    /// this cookie's name. A well-formed session in the clear (plain JSON, or base64 of it, the
    /// "decode and trust" mistake), one sealed by another key, and a value this server sealed for
    /// another cookie are all refused: the session carries tokens validated when they arrived,
    /// so the AEAD is what stands between the cookie and that trust.
    #[test]
    fn c7_a_session_cookie_is_trusted_only_when_this_key_sealed_it_for_this_name() {
        let key = Key::generate();
        let name = SETTINGS.session_name();
        let genuine = session("at".into());
        let json = serde_json::to_string(&genuine).unwrap();

        let sealed = seal(&key, name, &json);
        match read(&[(name, &sealed)], &key) {
            SessionCookie::Present(found) => assert_eq!(*found, genuine),
            other => panic!("the server's own cookie is read back: {other:?}"),
        }

        let forgeries = [
            ("plain JSON", json.clone()),
            ("base64 of the JSON", STANDARD.encode(&json)),
            ("base64url of the JSON", URL_SAFE_NO_PAD.encode(&json)),
            ("sealed by another key", seal(&Key::generate(), name, &json)),
            (
                "sealed by this key for the transaction cookie",
                seal(&key, SETTINGS.transaction_name(), &json),
            ),
            (
                "sealed by this key for the insecure-name variant",
                seal(&key, "skit_session", &json),
            ),
        ];
        for (what, value) in &forgeries {
            assert!(
                matches!(read(&[(name, value)], &key), SessionCookie::Invalid),
                "{what} must not be trusted"
            );
        }

        // Sealed pieces of two different sessions do not combine into one.
        let long = |token: &str| {
            let json = serde_json::to_string(&session(token.repeat(3000))).unwrap();
            split(&seal(&key, name, &json))
        };
        let (a, b) = (long("a"), long("b"));
        assert!(a.len() >= 2 && b.len() >= 2);
        let second = format!("{name}_1");
        assert!(matches!(
            read(&[(name, &a[0]), (&second, &a[1])], &key),
            SessionCookie::Present(_)
        ));
        assert!(matches!(
            read(&[(name, &a[0]), (&second, &b[1])], &key),
            SessionCookie::Invalid
        ));

        // The transaction cookie is held to the same rule.
        let transaction = Transaction::new(ReturnPath::parse("/dashboard").unwrap(), 1_000);
        let transaction_json = serde_json::to_string(&transaction).unwrap();
        let tx = SETTINGS.transaction_name();
        assert_eq!(
            SETTINGS.read_transaction(
                &request_with(&[(tx, &seal(&key, tx, &transaction_json))]),
                &key
            ),
            Some(transaction)
        );
        for value in [
            transaction_json.clone(),
            seal(&key, name, &transaction_json),
            seal(&Key::generate(), tx, &transaction_json),
        ] {
            assert_eq!(
                SETTINGS.read_transaction(&request_with(&[(tx, &value)]), &key),
                None
            );
        }
    }

    /// The attributes that decide which stored cookie a Set-Cookie line replaces or removes.
    #[derive(Debug, PartialEq)]
    struct Scope {
        path: Option<String>,
        domain: Option<String>,
        secure: Option<bool>,
        http_only: Option<bool>,
        same_site: Option<SameSite>,
    }

    fn scope(cookie: &Cookie) -> Scope {
        Scope {
            path: cookie.path().map(str::to_string),
            domain: cookie.domain().map(str::to_string),
            secure: cookie.secure(),
            http_only: cookie.http_only(),
            same_site: cookie.same_site(),
        }
    }

    /// Checklist C9 (and O3): a removal is built by the same function as the cookie it removes,
    /// so name, Path, Domain (none), Secure, HttpOnly and SameSite all match and only the value
    /// and the lifetime differ; a shorter session removes the pieces a longer one left behind.
    #[test]
    fn c9_removals_carry_the_name_and_attributes_of_the_cookies_they_remove() {
        for settings in [
            CookieSettings { secure: true },
            CookieSettings { secure: false },
        ] {
            let key = Key::generate();
            let jar = Cookies::default();
            settings.write_transaction(&jar, &key, &Transaction::new(ReturnPath::root(), 1_000));
            let tx_name = settings.transaction_name();
            let set = jar.get(tx_name).expect("transaction cookie");
            settings.clear_transaction(&jar);
            let removed = jar.get(tx_name).expect("transaction removal");
            assert_eq!(scope(&removed), scope(&set), "{tx_name}");
            assert_eq!(
                scope(&set),
                Scope {
                    path: Some("/".into()),
                    domain: None,
                    secure: Some(settings.secure),
                    http_only: Some(true),
                    same_site: Some(SameSite::Lax),
                }
            );
            assert_eq!(removed.max_age(), Some(Duration::ZERO));
            assert_eq!(removed.value(), "");
            assert_eq!(set.max_age(), Some(Duration::seconds(600)));

            // A long session in several pieces, then a short one: the spare pieces are removed
            // with the attributes they were set with.
            let jar = Cookies::default();
            settings.write_session(&jar, &key, &session("x".repeat(6000)), 3600);
            let pieces: Vec<Cookie> = (0..MAX_PIECES)
                .filter_map(|i| jar.get(&settings.piece_name(i)).map(|c| c.into_owned()))
                .collect();
            assert!(pieces.len() >= 2, "{} pieces", pieces.len());
            settings.write_session(&jar, &key, &session("short".into()), 3600);
            let first = jar.get(settings.session_name()).unwrap();
            assert!(!first.value().is_empty());
            assert_eq!(scope(&first), scope(&pieces[0]));
            for piece in &pieces[1..] {
                let removal = jar.get(piece.name()).expect("spare piece removed");
                assert_eq!(removal.value(), "", "{}", piece.name());
                assert_eq!(removal.max_age(), Some(Duration::ZERO));
                assert_eq!(scope(&removal), scope(piece), "{}", piece.name());
            }
            settings.clear_session(&jar);
            let cleared = jar.get(settings.session_name()).unwrap();
            assert_eq!(cleared.max_age(), Some(Duration::ZERO));
            assert_eq!(scope(&cleared), scope(&first));
        }
    }

    /// A value kept for the next page is sealed under its own name, opens once per request as
    /// sent, is removed with the attributes it was set with, and is `SameSite=Strict`.
    #[test]
    fn c1_a_kept_value_is_sealed_strict_and_removed_after_reading() {
        let key = Key::generate();
        let jar = Cookies::default();
        SETTINGS.write_kept(&jar, &key, "new_client", "the secret", 120);
        let name = SETTINGS.kept_name("new_client");
        assert_eq!(name, "__Host-skit_kept_new_client");
        let set = jar.get(&name).expect("kept cookie").into_owned();
        assert!(!set.value().contains("the secret"));
        assert_eq!(set.same_site(), Some(SameSite::Strict));
        assert_eq!(set.max_age(), Some(Duration::seconds(120)));

        let header = format!("other=1; {name}={}", set.value());
        let next = Cookies::default();
        for _ in 0..2 {
            assert_eq!(
                SETTINGS
                    .take_kept(&next, &key, "new_client", [header.as_str()])
                    .as_deref(),
                Some("the secret")
            );
        }
        let removal = next.get(&name).expect("removal");
        assert_eq!(removal.max_age(), Some(Duration::ZERO));
        assert_eq!(scope(&removal), scope(&set));
        let forged = format!("{name}={}", seal(&key, "other", "the secret"));
        assert_eq!(
            SETTINGS.take_kept(&next, &key, "new_client", [forged.as_str()]),
            None
        );
    }
}
