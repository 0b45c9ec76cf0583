//! Where to send the browser after sign-in: only a path on this site (checklist L11). Everything
//! else, including the tricks browsers turn into another origin, falls back to the default.

/// Longest return path kept; longer ones are refused rather than cut (a cut path is another path).
const MAX_RETURN_PATH: usize = 2048;

/// `raw` if it is a safe same-origin path (with optional query), else `None`.
pub fn safe_return_path(raw: &str) -> Option<String> {
    if raw.is_empty() || raw.len() > MAX_RETURN_PATH || !raw.starts_with('/') {
        return None;
    }
    // Browsers drop tabs and newlines and treat `\` like `/`: `/\t/evil.example` and
    // `/\evil.example` would leave the site.
    if raw.chars().any(|c| c.is_control() || c == '\\') {
        return None;
    }
    // The same checks after one round of percent-decoding, for servers and proxies that decode.
    let decoded: String =
        url::form_urlencoded::parse(format!("p={}", raw.replace('+', "%2B")).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
    if decoded.starts_with("//") || decoded.chars().any(|c| c.is_control() || c == '\\') {
        return None;
    }
    // Resolve against a placeholder origin: anything that escapes it was not a local path.
    let base = url::Url::parse("http://app.invalid/").ok()?;
    let resolved = base.join(raw).ok()?;
    if resolved.origin() != base.origin() {
        return None;
    }
    let mut path = resolved.path().to_string();
    // Dot segments can collapse into a leading `//` (`/.//evil.example`): another host again.
    if path.starts_with("//") {
        return None;
    }
    if let Some(query) = resolved.query() {
        path.push('?');
        path.push_str(query);
    }
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::safe_return_path;

    #[test]
    fn l11_local_paths_are_kept() {
        assert_eq!(
            safe_return_path("/dashboard").as_deref(),
            Some("/dashboard")
        );
        assert_eq!(
            safe_return_path("/sessions?tab=tokens").as_deref(),
            Some("/sessions?tab=tokens")
        );
        assert_eq!(
            safe_return_path("/a/../organization/settings").as_deref(),
            Some("/organization/settings")
        );
        assert_eq!(
            safe_return_path("/dashboard#claims").as_deref(),
            Some("/dashboard"),
            "fragment dropped"
        );
    }

    #[test]
    fn l11_open_redirect_tricks_are_refused() {
        for raw in [
            "",
            "dashboard",
            "https://evil.example/",
            "http:evil.example",
            "javascript:alert(1)",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/%2F%2Fevil.example",
            "/%2f/evil.example",
            "/%5Cevil.example",
            "/%09/evil.example",
            " /dashboard",
            "/.//evil.example",
            "/a/..//evil.example",
            "/%2e//evil.example",
        ] {
            assert_eq!(safe_return_path(raw), None, "{raw:?}");
        }
        assert_eq!(safe_return_path(&format!("/{}", "a".repeat(3000))), None);
    }
}
