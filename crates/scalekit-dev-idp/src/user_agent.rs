//! What the sessions API says about a session's device, read from its `User-Agent` header. A
//! small parser: it knows Chrome, Edge, Firefox and Safari on Windows, macOS, Linux, Android and
//! iOS, and leaves a field empty rather than guess (Opera, Samsung Internet and other Chromium
//! browsers also send `Chrome/`, so those are reported as unknown, not as Chrome).

/// Longest user agent kept per session; the rest is dropped.
pub const MAX_USER_AGENT: usize = 256;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Device {
    pub browser: String,
    pub browser_version: String,
    pub os: String,
    pub os_version: String,
    /// `desktop`, `mobile`, or empty.
    pub device_type: String,
}

/// The header as stored: at most `MAX_USER_AGENT` characters.
pub fn truncate(user_agent: &str) -> String {
    user_agent.chars().take(MAX_USER_AGENT).collect()
}

pub fn parse(user_agent: &str) -> Device {
    let (browser, browser_version) = browser(user_agent);
    let (os, os_version) = operating_system(user_agent);
    let device_type = match os {
        "Android" | "iOS" => "mobile",
        "Windows" | "macOS" | "Linux" => "desktop",
        _ => "",
    };
    Device {
        browser: browser.into(),
        browser_version,
        os: os.into(),
        os_version,
        device_type: device_type.into(),
    }
}

/// Browsers built on Chromium or WebKit that send the tokens of the ones we name.
const OTHER_BROWSERS: [&str; 6] = [
    "OPR/",
    "Opera",
    "SamsungBrowser/",
    "YaBrowser/",
    "Vivaldi/",
    "UCBrowser/",
];

fn browser(ua: &str) -> (&'static str, String) {
    if OTHER_BROWSERS.iter().any(|token| ua.contains(token)) {
        return ("", String::new());
    }
    // Edge and Chrome on iOS are Safari underneath and say so; their own token comes first.
    for (token, name) in [
        ("Edg/", "Edge"),
        ("EdgA/", "Edge"),
        ("EdgiOS/", "Edge"),
        ("Edge/", "Edge"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("Chrome/", "Chrome"),
    ] {
        if let Some(version) = version_after(ua, token) {
            return (name, version);
        }
    }
    if ua.contains("Safari/") && !ua.contains("Chromium") {
        if let Some(version) = version_after(ua, "Version/") {
            return ("Safari", version);
        }
    }
    ("", String::new())
}

fn operating_system(ua: &str) -> (&'static str, String) {
    if let Some(version) = version_after(ua, "Windows NT ") {
        // The NT version as sent: Windows 10 and 11 both send 10.0.
        return ("Windows", version);
    }
    if let Some(version) = version_after(ua, "Android ") {
        return ("Android", version);
    }
    if ua.contains("Android") {
        return ("Android", String::new());
    }
    // iOS names itself "like Mac OS X": it must be recognised before macOS.
    if ["iPhone", "iPad", "iPod"].iter().any(|d| ua.contains(d)) {
        let version = version_after(ua, "iPhone OS ")
            .or_else(|| version_after(ua, "CPU OS "))
            .unwrap_or_default();
        return ("iOS", version);
    }
    if let Some(version) = version_after(ua, "Mac OS X ") {
        return ("macOS", version);
    }
    if ua.contains("Macintosh") {
        return ("macOS", String::new());
    }
    if ua.contains("Linux") {
        return ("Linux", String::new());
    }
    ("", String::new())
}

/// The version right after `token`: digits with `.` or `_` (written as `.`), or None when the
/// token is absent or not followed by a digit.
fn version_after(ua: &str, token: &str) -> Option<String> {
    let start = ua.find(token)? + token.len();
    let version: String = ua[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '_')
        .map(|c| if c == '_' { '.' } else { c })
        .collect();
    let version = version.trim_end_matches('.');
    version
        .starts_with(|c: char| c.is_ascii_digit())
        .then(|| version.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(ua: &str) -> (String, String, String, String, String) {
        let d = parse(ua);
        (
            d.browser,
            d.browser_version,
            d.os,
            d.os_version,
            d.device_type,
        )
    }

    fn owned(parts: [&str; 5]) -> (String, String, String, String, String) {
        let [a, b, c, d, e] = parts.map(str::to_string);
        (a, b, c, d, e)
    }

    #[test]
    fn o8_common_browsers_and_systems_are_recognised() {
        let cases = [
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.91 Safari/537.36",
                ["Chrome", "124.0.6367.91", "Windows", "10.0", "desktop"]),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
                ["Edge", "124.0.2478.51", "Windows", "10.0", "desktop"]),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
                ["Safari", "17.4", "macOS", "10.15.7", "desktop"]),
            ("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
                ["Firefox", "125.0", "Linux", "", "desktop"]),
            ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
                ["Chrome", "124.0.6367.82", "Android", "14", "mobile"]),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
                ["Safari", "17.4.1", "iOS", "17.4.1", "mobile"]),
            ("Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
                ["Chrome", "124.0.6367.88", "iOS", "17.4", "mobile"]),
        ];
        for (ua, expected) in cases {
            assert_eq!(summary(ua), owned(expected), "{ua}");
        }
    }

    #[test]
    fn o8_unknown_agents_leave_fields_empty_rather_than_guess() {
        let opera = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/109.0.0.0";
        assert_eq!(
            summary(opera),
            owned(["", "", "Windows", "10.0", "desktop"])
        );
        assert_eq!(summary("curl/8.5.0"), owned(["", "", "", "", ""]));
        assert_eq!(summary(""), owned(["", "", "", "", ""]));
        assert_eq!(summary("Chrome/"), owned(["", "", "", "", ""]));
    }

    #[test]
    fn o8_user_agents_are_truncated_on_character_boundaries() {
        let long = "é".repeat(300);
        let kept = truncate(&long);
        assert_eq!(kept.chars().count(), MAX_USER_AGENT);
        assert_eq!(truncate("short"), "short");
    }
}
