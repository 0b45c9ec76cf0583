//! The key that encrypts and signs the app's cookies.
//!
//! Production derives it from `SECRET_KEY`. Development without `SECRET_KEY` generates a random key
//! once and keeps it in a file under `DEV_STATE_DIR`, so signing in survives a restart.

use std::fs;
use std::path::{Path, PathBuf};

use rand::RngCore;
use tower_cookies::Key;

use crate::config::CookieSecret;
use crate::state_file::write_private_file;

/// Length of the generated development key: cookie's `Key::from` takes 64 bytes (signing +
/// encryption halves).
const DEV_KEY_BYTES: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum CookieKeyError {
    #[error("could not read the development cookie key {path}: {reason}; delete the file to generate a new one")]
    Unreadable { path: PathBuf, reason: String },
    #[error("could not store a development cookie key in {path}: {reason}; set DEV_STATE_DIR to a writable directory, or set SECRET_KEY")]
    Unwritable { path: PathBuf, reason: String },
}

pub fn load_cookie_key(secret: &CookieSecret) -> Result<Key, CookieKeyError> {
    match secret {
        // HKDF stretches a long-enough secret into the 64 bytes the cookie crate needs.
        CookieSecret::Configured(secret) => Ok(Key::derive_from(secret.expose().as_bytes())),
        CookieSecret::DevPersisted(path) => load_or_create_dev_key(path),
    }
}

fn load_or_create_dev_key(path: &Path) -> Result<Key, CookieKeyError> {
    match fs::read_to_string(path) {
        Ok(text) => {
            let bytes = decode_hex(text.trim())
                .filter(|b| b.len() == DEV_KEY_BYTES)
                .ok_or_else(|| CookieKeyError::Unreadable {
                    path: path.into(),
                    reason: format!("expected {} hex characters", DEV_KEY_BYTES * 2),
                })?;
            Ok(Key::from(&bytes))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = [0u8; DEV_KEY_BYTES];
            rand::rng().fill_bytes(&mut bytes);
            write_private_file(path, &encode_hex(&bytes)).map_err(|e| {
                CookieKeyError::Unwritable {
                    path: path.into(),
                    reason: e.to_string(),
                }
            })?;
            Ok(Key::from(&bytes))
        }
        Err(e) => Err(CookieKeyError::Unreadable {
            path: path.into(),
            reason: e.to_string(),
        }),
    }
}

fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use scalekit_auth::Secret;

    fn scratch_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("leptos-scalekit-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn development_key_is_generated_once_and_reused_after_a_restart() {
        let dir = scratch_dir("dev-key");
        let path = dir.join("cookie-secret");
        let first = load_cookie_key(&CookieSecret::DevPersisted(path.clone())).unwrap();
        let second = load_cookie_key(&CookieSecret::DevPersisted(path.clone())).unwrap();
        assert_eq!(first.master(), second.master());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn corrupt_development_key_file_is_reported_with_its_path() {
        let dir = scratch_dir("bad-key");
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cookie-secret");
        fs::write(&path, "not hex").unwrap();
        let error = load_cookie_key(&CookieSecret::DevPersisted(path.clone())).unwrap_err();
        assert!(error.to_string().contains(&path.display().to_string()));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn configured_secret_derives_a_stable_key() {
        let secret = CookieSecret::Configured(Secret::new("0123456789abcdef0123456789abcdef"));
        assert_eq!(
            load_cookie_key(&secret).unwrap().master(),
            load_cookie_key(&secret).unwrap().master()
        );
    }

    #[test]
    fn hex_round_trips() {
        assert_eq!(
            decode_hex(&encode_hex(&[0, 1, 254, 255])),
            Some(vec![0, 1, 254, 255])
        );
        assert_eq!(decode_hex("zz"), None);
        assert_eq!(decode_hex("abc"), None);
    }
}
