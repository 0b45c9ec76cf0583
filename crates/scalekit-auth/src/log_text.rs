//! Text that came from outside (a token's header, a callback parameter, a request path) made safe
//! for a log line: control and bidirectional-override characters are escaped, so a value cannot
//! end the line and forge the next one or hide what follows, and the length is capped, so one
//! request cannot flood the log (checklist E4).

use std::borrow::Cow;

/// At most this many characters of an outside value reach a log line.
pub const MAX_LOGGED_CHARS: usize = 128;

/// `raw`, escaped and cut to `MAX_LOGGED_CHARS` characters (marked when cut); borrowed when it
/// needs neither, so the common case (a short, plain path) costs no allocation.
pub fn untrusted(raw: &str) -> Cow<'_, str> {
    if raw.len() <= MAX_LOGGED_CHARS && !raw.chars().any(needs_escape) {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len().min(MAX_LOGGED_CHARS) + 16);
    for (count, c) in raw.chars().enumerate() {
        if count == MAX_LOGGED_CHARS {
            out.push_str("…(cut)");
            break;
        }
        if needs_escape(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Line breaks and other controls, and the invisible characters that reorder or hide text.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || c == '\\'
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e4_outside_text_cannot_forge_or_flood_log_lines() {
        assert_eq!(untrusted("snk_1"), "snk_1");
        assert_eq!(untrusted("x\nFAKE level=ERROR"), "x\\nFAKE level=ERROR");
        assert_eq!(untrusted("a\r\u{1b}[31m"), "a\\r\\u{1b}[31m");
        assert_eq!(untrusted("\u{202e}txt"), "\\u{202e}txt");
        assert_eq!(
            untrusted("back\\slash"),
            "back\\\\slash",
            "escapes stay unambiguous"
        );
        let long = "k".repeat(30_000);
        let logged = untrusted(&long);
        assert!(
            logged.chars().count() < MAX_LOGGED_CHARS + 10,
            "{}",
            logged.len()
        );
        assert!(logged.ends_with("…(cut)"));
        assert_eq!(
            untrusted("é".repeat(10).as_str()),
            "é".repeat(10),
            "no byte slicing"
        );
    }
}
