//! Lower-case hex, for store keys and fingerprints: written digit by digit, since `format!` per
//! byte was a visible share of every request (three store keys and three fingerprints each).

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Appends `bytes` to `out` as lower-case hex.
pub(crate) fn push_lower(out: &mut String, bytes: &[u8]) {
    out.reserve(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
}

/// `bytes` as lower-case hex.
pub(crate) fn lower(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    push_lower(&mut out, bytes);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_byte_as_two_lower_case_digits() {
        let all: Vec<u8> = (0..=255).collect();
        let expected: String = all.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(super::lower(&all), expected);
        assert_eq!(super::lower(&[]), "");
    }
}
