//! The page's `<head>`, written as one piece of text per response.
//!
//! Everything in it is the same for every response of a process but the script nonce and, on a
//! lazily loaded page, its chunks' preload tags. Built as components it cost about 15k
//! instructions per page: `HydrationScripts` formats its paths and its loader call (`{:?}` of four
//! strings) on every render, `AutoReload` reads the environment, and each tag's attributes were
//! escaped again. Here Leptos' own `HydrationScripts` and `AutoReload` are rendered once, with a
//! placeholder where the nonce goes, so their output stays Leptos' (but for the preloads'
//! `crossorigin`, see `Head::new`); each response then only joins the pieces around its own nonce.

use std::collections::HashMap;
use std::sync::OnceLock;

use leptos::nonce::{use_nonce, Nonce};
use leptos::prelude::*;
use leptos::tachys::html::InertElement;
use leptos::WasmSplitManifest;

use super::chunk_preloads::{tags_by_path, LazyPage};

/// Stands for the nonce in the text rendered once; letters and digits only, so escaping leaves it
/// as it is.
const NONCE_PLACEHOLDER: &str = "leptosScalekitNoncePlaceholder7Qz";

/// Before the hydration scripts. Leptos' meta tags (titles) go at the marker, first after the
/// charset: Leptos finds it by searching the page from its start on every response.
const START: &str = "<meta charset=\"utf-8\"><!--HEAD-->\
     <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
     <meta name=\"color-scheme\" content=\"light dark\">";

/// After the scripts and preloads: static for the page's life (cargo-leptos' CSS reload finds
/// id="leptos").
const END: &str = "<link rel=\"stylesheet\" id=\"leptos\" href=\"/pkg/leptos-scalekit.css\">\
     <link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">";

/// The options the head's text depends on.
struct Site {
    output_name: String,
    site_root: String,
    site_pkg_dir: String,
    hash_files: bool,
}

impl Site {
    fn of(options: &LeptosOptions) -> Site {
        Site {
            output_name: options.output_name.to_string(),
            site_root: options.site_root.to_string(),
            site_pkg_dir: options.site_pkg_dir.to_string(),
            hash_files: options.hash_files,
        }
    }

    fn is(&self, options: &LeptosOptions) -> bool {
        *self.output_name == *options.output_name
            && *self.site_root == *options.site_root
            && *self.site_pkg_dir == *options.site_pkg_dir
            && self.hash_files == options.hash_files
    }
}

/// What a process writes in every head, for one set of options.
struct Head {
    site: Site,
    /// The reload and hydration scripts, cut where the nonce goes.
    scripts: Vec<String>,
    /// Each lazily loaded page's chunk preloads, by path.
    preloads: HashMap<&'static str, String>,
}

impl Head {
    fn new(options: &LeptosOptions, pages: &[LazyPage]) -> Head {
        let owner = Owner::new();
        let (scripts, manifest) = owner.with(|| {
            provide_context(Nonce::from_value(NONCE_PLACEHOLDER));
            let html = view! {
                <AutoReload options=options.clone()/>
                <HydrationScripts options=options.clone()/>
            }
            .to_html();
            // HydrationScripts provides the split manifest it read, when the bundle is split.
            (html, take_context::<WasmSplitManifest>())
        });
        // Leptos 0.8 also writes the nonce as the preload links' `crossorigin` value, which a
        // browser reads as `anonymous` anyway. Said as `anonymous`, the nonce is left only in
        // `nonce` attributes, whose values browsers hide from the page's CSS and scripts.
        let scripts = scripts.replace(
            &format!("crossorigin=\"{NONCE_PLACEHOLDER}\""),
            "crossorigin=\"anonymous\"",
        );
        Head {
            site: Site::of(options),
            scripts: scripts
                .split(NONCE_PLACEHOLDER)
                .map(str::to_string)
                .collect(),
            preloads: manifest
                .map(|manifest| tags_by_path(&manifest, pages))
                .unwrap_or_default(),
        }
    }

    fn write(&self, nonce: &str, path: Option<&str>) -> String {
        let preloads = path
            .and_then(|path| self.preloads.get(path))
            .map(String::as_str);
        let mut head = String::with_capacity(
            START.len()
                + self.scripts.iter().map(String::len).sum::<usize>()
                + nonce.len() * self.scripts.len()
                + preloads.map_or(0, str::len)
                + END.len(),
        );
        head.push_str(START);
        for (i, piece) in self.scripts.iter().enumerate() {
            if i > 0 {
                head.push_str(nonce);
            }
            head.push_str(piece);
        }
        head.push_str(preloads.unwrap_or(""));
        head.push_str(END);
        head
    }
}

/// The head's contents for the page being rendered: call it in the server-only shell, inside
/// `<head>`. `pages` are the lazily loaded pages, whose chunks are preloaded on their own paths.
pub fn document_head(options: &LeptosOptions, pages: &[LazyPage]) -> InertElement {
    static HEAD: OnceLock<Head> = OnceLock::new();
    let nonce = use_nonce();
    let nonce = nonce.as_deref().unwrap_or("");
    let cached = HEAD.get_or_init(|| Head::new(options, pages));
    // One process serves one site; a second set of options (tests build several apps) is
    // written afresh rather than with the first one's paths.
    let fresh;
    let head = if cached.site.is(options) {
        cached
    } else {
        fresh = Head::new(options, pages);
        &fresh
    };
    // The path is read in place: `use_context` would clone the request's head, its cookies and
    // all, and a copy of the path would be one more allocation per page.
    let text =
        with_context::<http::request::Parts, _>(|parts| head.write(nonce, Some(parts.uri.path())))
            .unwrap_or_else(|| head.write(nonce, None));
    InertElement::new(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn h1_the_head_carries_the_nonce_in_its_scripts_only_and_the_page_preloads() {
        let options = LeptosOptions::builder().output_name("app").build();
        let head = Head::new(&options, &[]);
        let text = head.write("N0nce", Some("/dashboard"));
        assert!(
            text.starts_with("<meta charset=\"utf-8\"><!--HEAD-->"),
            "{text}"
        );
        assert!(
            text.contains("<script type=\"module\" nonce=\"N0nce\">"),
            "{text}"
        );
        assert!(!text.contains(NONCE_PLACEHOLDER));
        assert!(text.ends_with(END));
        // Only in `nonce` attributes, which browsers hide; the preloads say `anonymous`.
        assert_eq!(
            text.matches("N0nce").count(),
            text.matches("nonce=\"N0nce\"").count(),
            "{text}"
        );
        assert_eq!(
            text.matches("crossorigin=\"anonymous\"").count(),
            2,
            "{text}"
        );

        let mut with_preloads = Head::new(&options, &[]);
        with_preloads.preloads.insert(
            "/dashboard",
            "<link rel=\"preload\" href=\"/pkg/c.wasm\">".into(),
        );
        assert!(with_preloads
            .write("n", Some("/dashboard"))
            .contains("<link rel=\"preload\" href=\"/pkg/c.wasm\">"));
        assert!(!with_preloads.write("n", Some("/")).contains("c.wasm"));
    }
}
