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
    let mut files = Vec::new();
    rust_files(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
        &mut files,
    );
    let mut server_fns = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        server_fns += text.matches("#[server(").count();
        for banned in ["GetUrl", "GetCbor", "input = Get", "input=Get"] {
            assert!(!text.contains(banned), "{} uses {banned}", file.display());
        }
    }
    assert!(server_fns >= 6, "found {server_fns} server functions");
}
