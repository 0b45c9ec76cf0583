//! Authenticated encryption of cookie values (AES-256-GCM through the `cookie` crate's private
//! jar, with the cookie name as associated data, so a value sealed for one cookie cannot be
//! replayed under another name). Values too long for one cookie are split after sealing: the
//! pieces only make sense together, so they cannot be mixed between sessions (checklist C3, C5).

use tower_cookies::cookie::{Cookie, CookieJar};
use tower_cookies::Key;

/// Longest value put in one cookie. With the name and attributes every Set-Cookie line stays
/// well under the 4096 bytes browsers guarantee per cookie.
pub const MAX_COOKIE_VALUE: usize = 3800;
/// More pieces than this is not a session we wrote.
pub const MAX_PIECES: usize = 4;

/// Encrypts `plaintext` for the cookie `name`.
pub fn seal(key: &Key, name: &str, plaintext: &str) -> String {
    let mut jar = CookieJar::new();
    jar.private_mut(key)
        .add(Cookie::new(name.to_string(), plaintext.to_string()));
    jar.get(name)
        .map(|cookie| cookie.value().to_string())
        .unwrap_or_default()
}

/// Decrypts a value sealed for `name`; `None` if it was tampered with, sealed under another key
/// or name, or is not a sealed value at all.
pub fn open(key: &Key, name: &str, sealed: &str) -> Option<String> {
    CookieJar::new()
        .private(key)
        .decrypt(Cookie::new(name.to_string(), sealed.to_string()))
        .map(|cookie| cookie.value().to_string())
}

/// Splits a sealed value into cookie-sized pieces (sealed values are base64, so any byte
/// boundary is a character boundary).
pub fn split(sealed: &str) -> Vec<String> {
    sealed
        .as_bytes()
        .chunks(MAX_COOKIE_VALUE)
        .map(|piece| String::from_utf8_lossy(piece).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c3_sealed_values_round_trip_and_hide_the_plaintext() {
        let key = Key::generate();
        let sealed = seal(&key, "session", "secret-token");
        assert!(!sealed.contains("secret-token"));
        assert_eq!(
            open(&key, "session", &sealed).as_deref(),
            Some("secret-token")
        );
    }

    #[test]
    fn c6_tampering_another_key_or_another_name_is_refused() {
        let key = Key::generate();
        let sealed = seal(&key, "session", "value");
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(open(&key, "session", &tampered), None);
        assert_eq!(open(&Key::generate(), "session", &sealed), None);
        assert_eq!(open(&key, "transaction", &sealed), None);
        assert_eq!(open(&key, "session", "not sealed"), None);
        assert_eq!(open(&key, "session", ""), None);
    }

    #[test]
    fn c5_long_values_split_into_pieces_that_rejoin() {
        let key = Key::generate();
        let plaintext = "x".repeat(7000);
        let sealed = seal(&key, "s", &plaintext);
        let pieces = split(&sealed);
        assert!(pieces.len() >= 2);
        assert!(pieces.iter().all(|p| p.len() <= MAX_COOKIE_VALUE));
        assert_eq!(
            open(&key, "s", &pieces.concat()).as_deref(),
            Some(plaintext.as_str())
        );
    }
}
