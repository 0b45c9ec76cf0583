//! Preload hints for the wasm chunks of a lazily loaded page, in the page's `<head>`, so the
//! browser fetches them beside the main bundle rather than after it has started.
//!
//! Leptos writes these itself when `HydrationScripts` finds the split manifest: after each render,
//! one `leptos_meta::Link` per chunk, each built and rendered as a component. That was about 50k
//! instructions of a dashboard request (a tenth of it) to write the same ten tags every time. Here
//! they are written once per page and process, from the manifest Leptos has read, and the head
//! (`web::document_head`) adds them as text; no render sees the manifest, so Leptos does not write
//! them again.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos::WasmSplitManifest;

/// A lazily loaded page: its path, and the name of its `LazyRoute` type (from which the
/// `lazy_route` macro names the page's split, `__<type in snake case>_view_<hash>`).
pub type LazyPage = (&'static str, &'static str);

/// Each of `pages`' preload tags, by path, from the manifest `HydrationScripts` reads (once per
/// process, `web::document_head`).
pub fn tags_by_path(
    manifest: &WasmSplitManifest,
    pages: &[LazyPage],
) -> HashMap<&'static str, String> {
    let Some(read) = manifest.0.try_read_value() else {
        return HashMap::new();
    };
    let (pkg_path, chunks_by_split, split_loader) = &*read;
    pages
        .iter()
        .filter_map(|&(path, route_type)| {
            let prefix = format!("__{}_view_", snake_case(route_type));
            let chunks = chunks_by_split
                .iter()
                .find_map(|(split, chunks)| split.starts_with(&prefix).then_some(chunks))?;
            Some((path, preload_tags(pkg_path, chunks, split_loader)))
        })
        .collect()
}

/// `crossorigin` makes each preload match the request that uses it: the split loader fetches
/// chunks with `fetch()` and imports itself as a module, both in CORS mode with same-origin
/// credentials, which is what `anonymous` asks for.
fn preload_tags(pkg_path: &str, chunks: &[String], split_loader: &str) -> String {
    let attr = |value: &str| html_escape::encode_double_quoted_attribute(value).into_owned();
    let mut tags = String::new();
    for chunk in chunks {
        tags.push_str(&format!(
            r#"<link rel="preload" href="{}" as="fetch" type="application/wasm" crossorigin="anonymous">"#,
            attr(&format!("{pkg_path}/{chunk}.wasm"))
        ));
    }
    tags.push_str(&format!(
        r#"<link rel="modulepreload" href="{}" crossorigin="anonymous">"#,
        attr(&format!("{pkg_path}/{split_loader}"))
    ));
    tags
}

/// `DashboardRoute` → `dashboard_route`, as the `lazy_route` macro spells the type.
fn snake_case(name: &str) -> String {
    let mut snake = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                snake.push('_');
            }
            snake.push(c.to_ascii_lowercase());
        } else {
            snake.push(c);
        }
    }
    snake
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_types_are_spelled_as_the_macro_spells_them() {
        assert_eq!(snake_case("DashboardRoute"), "dashboard_route");
        assert_eq!(snake_case("About"), "about");
    }

    #[test]
    fn every_chunk_and_the_loader_is_preloaded() {
        let chunks = [
            "chunk_7".to_string(),
            "split___about_route_view_1".to_string(),
        ];
        let tags = preload_tags("/pkg", &chunks, "__wasm_split.js");
        assert_eq!(
            tags,
            "<link rel=\"preload\" href=\"/pkg/chunk_7.wasm\" as=\"fetch\" type=\"application/wasm\" crossorigin=\"anonymous\">\
             <link rel=\"preload\" href=\"/pkg/split___about_route_view_1.wasm\" as=\"fetch\" type=\"application/wasm\" crossorigin=\"anonymous\">\
             <link rel=\"modulepreload\" href=\"/pkg/__wasm_split.js\" crossorigin=\"anonymous\">"
        );
        assert!(preload_tags("/a\"b", &[], "x.js").contains("href=\"/a&quot;b/x.js\""));
    }
}
