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

/// `bytes` random bytes from the thread's CSPRNG (ChaCha, seeded from the OS), base64url without
/// padding: state, nonces, ids, the CSP nonce of every response.
///
/// The bytes are drawn and encoded through a buffer on the stack, so the token is the only
/// allocation. A chunk of a multiple of three bytes encodes to whole base64 groups, so the
/// chunks' encodings join into the encoding of all the bytes.
pub fn random_token(bytes: usize) -> String {
    use base64::Engine;
    use rand::RngCore;
    const CHUNK: usize = 48;
    let mut token = String::with_capacity((bytes * 4).div_ceil(3));
    let mut chunk = [0u8; CHUNK];
    let mut rng = rand::rng();
    let mut left = bytes;
    while left > 0 {
        let drawn = &mut chunk[..left.min(CHUNK)];
        rng.fill_bytes(drawn);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(&*drawn, &mut token);
        left -= drawn.len();
    }
    token
}

/// Compares two secrets in time that depends only on their lengths.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn random_tokens_are_base64url_of_the_asked_length_and_differ() {
        use base64::Engine;
        for bytes in [0, 1, 16, 32, 47, 48, 49, 100] {
            let token = super::random_token(bytes);
            let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&token)
                .expect("base64url without padding");
            assert_eq!(decoded.len(), bytes, "{token}");
            assert_eq!(token.len(), (bytes * 4).div_ceil(3));
            if bytes == 100 {
                // Each 48-byte chunk is drawn afresh, not the first one repeated.
                assert_ne!(decoded[..48], decoded[48..96]);
            }
        }
        assert_ne!(super::random_token(16), super::random_token(16));
    }

    #[test]
    fn e4_debug_and_display_never_show_the_value() {
        let secret = Secret::new("super-secret-value");
        assert!(!format!("{secret:?}").contains("super-secret-value"));
        assert!(!format!("{secret}").contains("super-secret-value"));
        assert!(!secret.masked().contains("super-secret-value"));
        assert_eq!(secret.expose(), "super-secret-value");
    }
}
