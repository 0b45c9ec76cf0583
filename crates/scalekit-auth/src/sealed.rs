//! Authenticated encryption of cookie values (AES-256-GCM through the `cookie` crate's private
//! jar, with the cookie name as associated data, so a value sealed for one cookie cannot be
//! replayed under another name). Values too long for one cookie are split after sealing: the
//! pieces only make sense together, so they cannot be mixed between sessions (checklist C3, C5).
//!
//! Opening, done for every signed-in request, reads the private jar's format itself (standard
//! base64 of nonce, ciphertext, tag; the jar's encryption key; the name as associated data) with
//! the same AES-GCM crate and a SIMD base64 decoder. The tests prove both directions agree with
//! the jar.

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use tower_cookies::cookie::{Cookie, CookieJar};
use tower_cookies::Key;

/// AES-GCM's nonce and tag, as the private jar lays them out around the ciphertext.
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

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
    let mut data = base64_simd::STANDARD.decode_to_vec(sealed).ok()?;
    if data.len() < NONCE_LEN + TAG_LEN {
        return None;
    }
    let cipher = Aes256Gcm::new_from_slice(key.encryption()).ok()?;
    let (nonce, rest) = data.split_at_mut(NONCE_LEN);
    let (message, tag) = rest.split_at_mut(rest.len() - TAG_LEN);
    cipher
        .decrypt_in_place_detached(
            Nonce::from_slice(nonce),
            name.as_bytes(),
            message,
            Tag::from_slice(tag),
        )
        .ok()?;
    data.truncate(data.len() - TAG_LEN);
    data.drain(..NONCE_LEN);
    String::from_utf8(data).ok()
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

    /// What the `cookie` crate's private jar opens, for comparison with `open`.
    fn open_with_the_jar(key: &Key, name: &str, sealed: &str) -> Option<String> {
        CookieJar::new()
            .private(key)
            .decrypt(Cookie::new(name.to_string(), sealed.to_string()))
            .map(|cookie| cookie.value().to_string())
    }

    #[test]
    fn c3_open_reads_exactly_what_the_private_jar_reads() {
        let key = Key::generate();
        for plaintext in ["", "a", "{\"sub\":\"usr_1\"}", &"é".repeat(3000)] {
            let sealed = seal(&key, "session", plaintext);
            assert_eq!(open(&key, "session", &sealed).as_deref(), Some(plaintext));
            assert_eq!(
                open(&key, "session", &sealed),
                open_with_the_jar(&key, "session", &sealed)
            );
        }
        // Every single-character change, truncation and cut-off: both refuse alike.
        let sealed = seal(&key, "session", "value");
        for at in 0..sealed.len() {
            let mut changed = sealed.clone().into_bytes();
            changed[at] = if changed[at] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(changed).unwrap();
            assert_eq!(open(&key, "session", &changed), None, "changed at {at}");
            assert_eq!(open_with_the_jar(&key, "session", &changed), None);
            assert_eq!(open(&key, "session", &sealed[..at]), None, "cut at {at}");
            assert_eq!(open_with_the_jar(&key, "session", &sealed[..at]), None);
        }
        for not_sealed in ["=", "====", "AAAA", "!!!!", &"A".repeat(36)] {
            assert_eq!(open(&key, "session", not_sealed), None, "{not_sealed}");
            assert_eq!(open_with_the_jar(&key, "session", not_sealed), None);
        }
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
