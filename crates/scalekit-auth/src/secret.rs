//! A string that must never be printed: client secrets, cookie keys, tokens.

use std::fmt;

/// Holds a secret value. `Debug` and `Display` print `[redacted]`, so a secret inside a struct
/// that gets logged stays out of the log; read the value with [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that sends or uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A description safe to print: whether it is set, and its length.
    pub fn masked(&self) -> String {
        if self.0.is_empty() {
            "(empty)".into()
        } else {
            format!("set ({} characters, hidden)", self.0.chars().count())
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// `bytes` random bytes from the OS generator, base64url without padding: state, nonces, ids.
pub fn random_token(bytes: usize) -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// Compares two secrets in time that depends only on their lengths.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn e4_debug_and_display_never_show_the_value() {
        let secret = Secret::new("super-secret-value");
        assert!(!format!("{secret:?}").contains("super-secret-value"));
        assert!(!format!("{secret}").contains("super-secret-value"));
        assert!(!secret.masked().contains("super-secret-value"));
        assert_eq!(secret.expose(), "super-secret-value");
    }
}
