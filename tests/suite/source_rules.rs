//! Rules checked on the source itself.

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Checklist X1: every server function takes POST, so a cross-site GET (a link, an image) can
/// never reach one; the CSRF layer only has to look at non-safe methods.
#[test]
fn x1_no_server_function_uses_a_get_encoding() {
    let mut server_fns = 0;
    for (file, text) in server_fn_sources() {
        server_fns += text.matches("#[server(").count();
        for banned in ["GetUrl", "GetCbor", "input = Get", "input=Get"] {
            assert!(!text.contains(banned), "{file} uses {banned}");
        }
    }
    assert!(server_fns >= 15, "found {server_fns} server functions");
}

fn src_dir(sub: &str) -> std::path::PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")).join(sub)
}

/// Every `.rs` file under `dir`, sorted, with its text and its path relative to `root` after
/// `prefix`.
fn named_sources(dir: &Path, root: &Path, prefix: &str) -> Vec<(String, String)> {
    let mut files = Vec::new();
    rust_files(dir, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let relative = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (format!("{prefix}{relative}"), text)
        })
        .collect()
}

/// Every `.rs` file under `src/<sub>`, with its text and its path relative to `src/`.
fn sources(sub: &str) -> Vec<(String, String)> {
    named_sources(&src_dir(sub), &src_dir(""), "")
}

/// The files of the crate at `crates/<dir>/src`, named `<prefix>/…`.
fn crate_sources(dir: &str, prefix: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates")
        .join(dir)
        .join("src");
    named_sources(&root, &root, &format!("{prefix}/"))
}

/// Where server functions are defined: the app and the Leptos layer.
fn server_fn_sources() -> Vec<(String, String)> {
    let mut files = sources("");
    files.extend(crate_sources("scalekit-leptos", "leptos"));
    files
}

/// The auth core's files, named `auth/…` (as when it lived in `src/auth`), the Leptos layer's
/// (`leptos/…`) and the app's. The development provider (its own crate) is not among them: it
/// plays the provider.
fn sources_outside_dev_provider() -> Vec<(String, String)> {
    let mut all = crate_sources("scalekit-auth", "auth");
    all.extend(crate_sources("scalekit-leptos", "leptos"));
    all.extend(sources(""));
    all
}

/// The auth core's file `name`.
fn core_file(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/crates/scalekit-auth/src"
        ))
        .join(name),
    )
    .unwrap()
}

/// The text before a file's unit-test module (`#[cfg(test)]` onwards is test code).
fn without_tests(text: &str) -> &str {
    text.split("#[cfg(test)]").next().unwrap_or(text)
}

/// A server function: its name and its parameters as `name: Type` strings.
#[derive(Debug)]
struct ServerFn {
    file: String,
    name: String,
    params: Vec<String>,
}

/// Splits `a: A, b: Option<(B, C)>` at the commas outside brackets.
fn split_params(list: &str) -> Vec<String> {
    let mut params = Vec::new();
    let mut depth = 0i32;
    let mut current = String::new();
    for c in list.chars() {
        match c {
            '<' | '(' | '[' | '{' => depth += 1,
            '>' | ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                params.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    params.push(current);
    params
        .into_iter()
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

fn server_fns() -> Vec<ServerFn> {
    let mut found = Vec::new();
    for (file, text) in server_fn_sources() {
        for (at, _) in text.match_indices("#[server(") {
            let rest = &text[at..];
            let fn_at = rest.find("fn ").expect("a function follows #[server]");
            let signature = &rest[fn_at + 3..];
            let open = signature.find('(').unwrap();
            let name = signature[..open].trim().to_string();
            let mut depth = 0;
            let mut close = open;
            for (i, c) in signature[open..].char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            close = open + i;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            found.push(ServerFn {
                file: file.clone(),
                name,
                params: split_params(&signature[open + 1..close]),
            });
        }
    }
    found
}

/// Checklist R8: no server function is keyed on an identifier the client supplies. A refresh
/// works on the caller's own sealed cookie only (the refresh server function takes nothing), and
/// no server function takes a user, subject, session, refresh-token or token argument that could
/// point it at someone else's session (the `refresh(email)` anti-pattern).
#[test]
fn r8_no_server_function_takes_a_user_session_or_token_identifier() {
    let fns = server_fns();
    assert!(fns.len() >= 10, "found only {fns:?}");
    let refresh: Vec<&ServerFn> = fns.iter().filter(|f| f.name.contains("refresh")).collect();
    assert_eq!(
        refresh.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
        ["refresh_session"],
        "the one refresh server function"
    );
    for f in &refresh {
        assert!(f.params.is_empty(), "{} takes {:?}", f.name, f.params);
    }
    const BANNED: [&str; 9] = [
        "user", "sub", "session", "sid", "refresh", "token", "email", "account", "cookie",
    ];
    // The one exception: which of the caller's own provider sessions to sign out. The server
    // function looks it up in the caller's own list and refuses any other (404), proved by
    // bff::user_sessions::o8_sign_out_everywhere_from_one_session_ends_the_other.
    const CHECKED_AGAINST_THE_CALLERS_OWN: [(&str, &str); 1] = [("sign_out_session", "session_id")];
    for f in &fns {
        for param in &f.params {
            let name = param
                .split(':')
                .next()
                .unwrap()
                .trim()
                .trim_start_matches("mut ")
                .to_ascii_lowercase();
            if CHECKED_AGAINST_THE_CALLERS_OWN.contains(&(f.name.as_str(), name.as_str())) {
                continue;
            }
            assert!(
                !BANNED.iter().any(|banned| name.contains(banned)),
                "{} in {} takes `{param}`: server functions work on the caller's own session",
                f.name,
                f.file
            );
        }
    }
    // The parser is not vacuous: it sees the arguments that do exist.
    let login = fns.iter().find(|f| f.name == "login").unwrap();
    assert!(
        login.params.iter().any(|p| p.starts_with("login_hint:")),
        "{login:?}"
    );
}

/// Checklist C10: cookies are written before the response starts. Every page route renders in
/// `SsrMode::Async` (the server waits for all data, so a server function called during the render
/// still sets its cookies before the head is sent), no other render mode or route definition
/// exists, and pages, components and the root component never touch the cookie machinery
/// themselves (that is the middleware's, the callback handler's and server functions' job).
#[test]
fn c10_pages_render_whole_before_the_response_starts_and_never_write_cookies() {
    let app = std::fs::read_to_string(src_dir("app.rs")).unwrap();
    let routes: Vec<&str> = app
        .match_indices("<Route")
        .map(|(at, tag)| &app[at + tag.len()..])
        .filter(|rest| rest.starts_with(char::is_whitespace))
        .map(|rest| &rest[..rest.find("/>").expect("a self-closing <Route/>")])
        .collect();
    assert!(routes.len() >= 7, "found {} routes", routes.len());
    for route in &routes {
        let route = route.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(route.contains("ssr=SsrMode::Async"), "<Route {route}/>");
    }
    for (file, text) in sources("") {
        for mode in ["OutOfOrder", "InOrder", "PartiallyBlocked", "Static("] {
            assert!(
                !text.contains(&format!("SsrMode::{mode}")),
                "{file} uses SsrMode::{mode}"
            );
        }
        // The benchmark's minimal Leptos page (a `bench-baselines` build only) is not the app.
        if file != "app.rs" && file != "web/bench_baselines.rs" {
            assert!(
                !text.contains("<Route") && !text.contains("<ParentRoute"),
                "{file} defines routes outside src/app.rs"
            );
        }
    }
    let mut rendering = sources("pages");
    rendering.extend(sources("components"));
    rendering.extend(
        crate_sources("scalekit-leptos", "leptos")
            .into_iter()
            .filter(|(file, _)| file == "leptos/guard.rs"),
    );
    rendering.push(("app.rs".into(), app.clone()));
    assert!(rendering.len() >= 10);
    for (file, text) in rendering {
        for banned in [
            "tower_cookies",
            "Cookies",
            "leptos_axum::extract",
            "write_session",
            "write_transaction",
            "clear_session",
            "clear_transaction",
            "keep_for_next_page",
            "take_kept",
            "SET_COOKIE",
            "set-cookie",
            "auth.refresh(",
            "auth.end(",
        ] {
            assert!(
                !text.contains(banned),
                "{file} uses `{banned}`: render code never writes cookies"
            );
        }
    }
}

/// Checklist I13 does not apply: the app never asks for `max_age` or `acr_values`, so no
/// `auth_time` or `acr` check is owed. Outside the development provider no code names either
/// parameter (the URL the login server function sends is checked in `bff::sign_in::i13_…`).
#[test]
fn i13_no_code_outside_the_dev_provider_asks_for_max_age_or_acr_values() {
    let files = sources_outside_dev_provider();
    assert!(files.iter().any(|(file, _)| file == "auth/transaction.rs"));
    for (file, text) in &files {
        for banned in [
            "\"max_age\"",
            "max_age=",
            "\"acr_values\"",
            "acr_values=",
            "\"acr\"",
        ] {
            assert!(!text.contains(banned), "{file} mentions {banned}");
        }
    }
}

/// Checklist I14 does not apply: UserInfo is never called; the profile comes from the validated
/// ID token. Outside the development provider the word appears only in the discovery document's
/// field list (parsed, never used), and no code reads `userinfo_endpoint`.
#[test]
fn i14_no_code_outside_the_dev_provider_calls_userinfo() {
    let mut mentions = Vec::new();
    for (file, text) in sources_outside_dev_provider() {
        let lower = text.to_ascii_lowercase();
        for (at, _) in lower.match_indices("userinfo") {
            let line = text[..at].matches('\n').count() + 1;
            let line_text = text.lines().nth(line - 1).unwrap_or("").trim().to_string();
            mentions.push((file.clone(), line_text));
        }
    }
    for (file, line) in &mentions {
        assert_eq!(file, "auth/discovery.rs", "{file}: {line}");
        assert!(
            line.starts_with("pub userinfo_endpoint: Option<String>")
                || line.starts_with("userinfo_endpoint: Some(format!("),
            "only the metadata field and Scalekit's default value: {line}"
        );
    }
    assert!(!mentions.is_empty(), "the field is there to be found");
}

/// Checklist L10: the provider's HTTP client is built in one place, and nothing in the app
/// turns off certificate checks or builds another client for the provider.
#[test]
fn l10_one_provider_http_client_and_no_certificate_check_is_ever_switched_off() {
    for (file, text) in sources_outside_dev_provider() {
        for banned in [
            "danger_accept_invalid_certs",
            "danger_accept_invalid_hostnames",
            "tls_built_in_root_certs(false)",
            "redirect::Policy::limited",
            "Policy::custom",
        ] {
            assert!(!text.contains(banned), "{file} uses {banned}");
        }
        let code = without_tests(&text);
        if file != "auth/http_client.rs" {
            for builder in [
                "reqwest::Client::builder",
                "reqwest::Client::new",
                "ClientBuilder::new",
            ] {
                assert!(
                    !code.contains(builder),
                    "{file} builds its own HTTP client ({builder}); use provider_http_client"
                );
            }
        }
    }
    let client = core_file("http_client.rs");
    for policy in [
        ".redirect(Policy::none())",
        ".connect_timeout(",
        ".timeout(",
    ] {
        assert!(
            client.contains(policy),
            "provider_http_client lacks {policy}"
        );
    }
}
