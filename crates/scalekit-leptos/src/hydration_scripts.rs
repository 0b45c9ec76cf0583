//! Leptos' `AutoReload` and `HydrationScripts`, rendered once per process and joined around each
//! response's script nonce.
//!
//! Rendered as components on every page they cost about 15k instructions of a dashboard request:
//! `HydrationScripts` formats its paths and its loader call (`{:?}` of four strings), and with file
//! hashing on it reads the hash file from disk, on every render; `AutoReload` reads the
//! environment. Here their own output is rendered once with a placeholder where the nonce goes,
//! so it stays Leptos' but for the preloads' `crossorigin` (see [`Scripts::render`]).

use std::sync::OnceLock;

use leptos::nonce::{use_nonce, Nonce};
use leptos::prelude::*;
use leptos::tachys::html::InertElement;
use leptos::WasmSplitManifest;

use crate::chunk_preloads::ChunkPreloads;

/// Stands for the nonce in the text rendered once: letters and digits only, so escaping leaves it
/// as it is.
const NONCE_PLACEHOLDER: &str = "scalekitLeptosNoncePlaceholder7Qz";

/// The hydration scripts for the page's `<head>`, in place of Leptos' `<AutoReload/>` and
/// `<HydrationScripts/>` (with neither `root` nor `defer`, and not in islands mode): the same tags,
/// written from text made once per process, with this response's nonce (from
/// `leptos::nonce::provide_nonce` or your own `Nonce` context) in their `nonce` attributes.
///
/// With a split bundle (`cargo leptos build --split`), pages rendered by
/// [`render_page`](crate::render_page) also get preloads for the wasm chunks of the lazy routes
/// they reached, written once per set of routes. Call it in the server-only shell:
///
/// ```ignore
/// view! {
///     <head>
///         <meta charset="utf-8"/>
///         <MetaTags/>
///         {scalekit_leptos::hydration_scripts(&options)}
///     </head>
/// }
/// ```
pub fn hydration_scripts(options: &LeptosOptions) -> InertElement {
    static SCRIPTS: OnceLock<Scripts> = OnceLock::new();
    let cached = SCRIPTS.get_or_init(|| Scripts::new(options));
    // One process serves one site; another set of options (tests build several apps) is written
    // afresh rather than with the first one's paths.
    let fresh;
    let scripts = if cached.site.is(options) {
        cached
    } else {
        fresh = Scripts::new(options);
        &fresh
    };
    if let Some(preloads) = &scripts.preloads {
        // Ours for `render_page`; the manifest for Leptos' own handlers (other `SsrMode`s), as
        // `HydrationScripts` would leave it.
        provide_context(preloads.clone());
        provide_context(preloads.manifest().clone());
    }
    InertElement::new(scripts.write(use_nonce().as_deref()))
}

/// The options the scripts' text depends on.
struct Site {
    output_name: String,
    site_root: String,
    site_pkg_dir: String,
    hash_files: bool,
    reload_port: u32,
}

impl Site {
    fn of(options: &LeptosOptions) -> Site {
        Site {
            output_name: options.output_name.to_string(),
            site_root: options.site_root.to_string(),
            site_pkg_dir: options.site_pkg_dir.to_string(),
            hash_files: options.hash_files,
            reload_port: options.reload_port,
        }
    }

    fn is(&self, options: &LeptosOptions) -> bool {
        *self.output_name == *options.output_name
            && *self.site_root == *options.site_root
            && *self.site_pkg_dir == *options.site_pkg_dir
            && self.hash_files == options.hash_files
            && self.reload_port == options.reload_port
    }
}

/// What a process writes for one set of options.
struct Scripts {
    site: Site,
    /// The scripts' text, cut where the nonce goes.
    pieces: Vec<String>,
    /// Their text for a response with no nonce, which Leptos writes without `nonce` attributes.
    without_nonce: String,
    /// With a split bundle: its manifest, and the chunk preloads written from it.
    preloads: Option<ChunkPreloads>,
}

impl Scripts {
    /// Rendered on a thread of its own, where no page's owner is current: under one, the render
    /// would see that page's nonce, and a new root would replace the page's reactive arena.
    fn new(options: &LeptosOptions) -> Scripts {
        std::thread::scope(|scope| {
            scope
                .spawn(|| Scripts::render(options))
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }

    fn render(options: &LeptosOptions) -> Scripts {
        let render = |nonce: Option<&'static str>| {
            Owner::new().with(|| {
                if let Some(nonce) = nonce {
                    provide_context(Nonce::from_value(nonce));
                }
                let text = view! {
                    <AutoReload options=options.clone()/>
                    <HydrationScripts options=options.clone()/>
                }
                .to_html();
                // HydrationScripts provides the split manifest it read, when the bundle is split.
                (text, take_context::<WasmSplitManifest>())
            })
        };
        let (without_nonce, _) = render(None);
        let (text, manifest) = render(Some(NONCE_PLACEHOLDER));
        // Leptos 0.8 also writes the nonce as the main module's preloads' `crossorigin` value,
        // which a browser reads as `anonymous` anyway. Said as `anonymous`, the nonce is left only
        // in `nonce` attributes, whose values browsers hide from the page's CSS and scripts.
        let text = text.replace(
            &format!("crossorigin=\"{NONCE_PLACEHOLDER}\""),
            "crossorigin=\"anonymous\"",
        );
        Scripts {
            site: Site::of(options),
            pieces: text.split(NONCE_PLACEHOLDER).map(str::to_string).collect(),
            without_nonce,
            preloads: manifest.map(ChunkPreloads::new),
        }
    }

    fn write(&self, nonce: Option<&str>) -> String {
        let Some(nonce) = nonce else {
            return self.without_nonce.clone();
        };
        let length = self.pieces.iter().map(String::len).sum::<usize>()
            + nonce.len() * self.pieces.len().saturating_sub(1);
        let mut text = String::with_capacity(length);
        for (i, piece) in self.pieces.iter().enumerate() {
            if i > 0 {
                text.push_str(nonce);
            }
            text.push_str(piece);
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn h1_the_scripts_carry_the_nonce_in_nonce_attributes_only() {
        let options = LeptosOptions::builder().output_name("app").build();
        let text = Scripts::new(&options).write(Some("N0nce"));
        assert!(
            text.contains("<script type=\"module\" nonce=\"N0nce\">"),
            "{text}"
        );
        assert!(!text.contains(NONCE_PLACEHOLDER));
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
    }

    #[test]
    fn h1_each_response_gets_its_own_nonce_and_otherwise_leptos_own_tags() {
        let options = LeptosOptions::builder().output_name("app").build();
        let render = |nonce: &'static str| {
            Owner::new().with(|| {
                provide_context(Nonce::from_value(nonce));
                let ours = hydration_scripts(&options).to_html();
                let leptos = view! {
                    <AutoReload options=options.clone()/>
                    <HydrationScripts options=options.clone()/>
                }
                .to_html()
                .replace(
                    &format!("crossorigin=\"{nonce}\""),
                    "crossorigin=\"anonymous\"",
                );
                (ours, leptos)
            })
        };
        let (first, leptos_first) = render("firstNonce1");
        let (second, leptos_second) = render("secondNonce2");
        assert_eq!(first, leptos_first);
        assert_eq!(second, leptos_second);
        assert!(
            first.contains("nonce=\"firstNonce1\"") && !first.contains("secondNonce2"),
            "{first}"
        );

        // No nonce in context: Leptos writes none either.
        let bare = Owner::new().with(|| hydration_scripts(&options).to_html());
        assert!(!bare.contains("nonce="), "{bare}");
    }
}
