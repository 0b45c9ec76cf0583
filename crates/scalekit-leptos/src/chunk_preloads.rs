//! Preload hints for the wasm chunks of the lazy routes a page reached, put into its `<head>` by
//! [`render_page`](crate::render_page), so the browser fetches them beside the main module rather
//! than after it has started.
//!
//! Leptos' handlers write them after each render as one `leptos_meta::Link` per chunk, each built
//! and rendered as a component, with the script nonce as their `crossorigin` value: about a tenth
//! of a dashboard request, for the same few tags every time. Here they are text. When the head
//! came from [`hydration_scripts`](crate::hydration_scripts), each set of reached routes is
//! written once per process; with Leptos' own `HydrationScripts`, once per page.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use leptos::prelude::*;
use leptos::{PrefetchLazyFn, WasmSplitManifest};

/// A router has a fixed set of lazy routes and only nested ones are reached together, so a
/// process meets few sets. Past this many, a page's tags are written afresh rather than kept.
const REMEMBERED_SETS: usize = 256;

/// The split manifest `HydrationScripts` read, and the tags written from it so far, by the
/// sorted names of the lazy routes reached. Provided by
/// [`hydration_scripts`](crate::hydration_scripts).
#[derive(Clone)]
pub(crate) struct ChunkPreloads(Arc<Remembered>);

struct Remembered {
    manifest: WasmSplitManifest,
    written: RwLock<HashMap<Vec<&'static str>, Arc<str>>>,
}

impl ChunkPreloads {
    pub(crate) fn new(manifest: WasmSplitManifest) -> ChunkPreloads {
        ChunkPreloads(Arc::new(Remembered {
            manifest,
            written: RwLock::new(HashMap::new()),
        }))
    }

    pub(crate) fn manifest(&self) -> &WasmSplitManifest {
        &self.0.manifest
    }

    fn tags(&self, reached: Vec<&'static str>) -> Option<Arc<str>> {
        let written = &self.0.written;
        if let Some(tags) = written
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&reached)
        {
            return Some(Arc::clone(tags));
        }
        let tags: Arc<str> = tags_for(&self.0.manifest, &reached)?.into();
        let mut written = written.write().unwrap_or_else(PoisonError::into_inner);
        if written.len() < REMEMBERED_SETS {
            written.insert(reached, Arc::clone(&tags));
        }
        Some(tags)
    }
}

/// The preload tags for the lazy routes this render reached (call it in the render's owner), or
/// `None` when it reached none or no split manifest was read (an unsplit bundle).
pub(crate) fn for_page(prefetches: &PrefetchLazyFn) -> Option<Arc<str>> {
    let mut reached: Vec<&'static str> = prefetches.0.try_read_value()?.iter().copied().collect();
    if reached.is_empty() {
        return None;
    }
    // The same routes in the same order however the set iterates: one key, one text.
    reached.sort_unstable();
    if let Some(preloads) = use_context::<ChunkPreloads>() {
        return preloads.tags(reached);
    }
    // Leptos' own `HydrationScripts` provides the manifest alone.
    let manifest = use_context::<WasmSplitManifest>()?;
    tags_for(&manifest, &reached).map(Arc::from)
}

/// One preload per chunk of each route in `reached`, then the split loader's, as Leptos writes
/// them, but for `crossorigin`: `anonymous` matches the requests that use them (the loader fetches
/// chunks with `fetch()` and imports itself as a module, both in CORS mode with same-origin
/// credentials). Leptos writes the nonce there, which browsers read as `anonymous` too, but which
/// would put the nonce in an attribute the page's scripts and CSS can read.
fn tags_for(manifest: &WasmSplitManifest, reached: &[&'static str]) -> Option<String> {
    let read = manifest.0.try_read_value()?;
    let (pkg_path, chunks_by_split, split_loader) = &*read;
    let href = |path: String| html_escape::encode_double_quoted_attribute(&path).into_owned();
    let mut tags = String::new();
    for chunk in reached
        .iter()
        .flat_map(|split| chunks_by_split.get(*split).into_iter().flatten())
    {
        tags.push_str("<link rel=\"preload\" href=\"");
        tags.push_str(&href(format!("{pkg_path}/{chunk}.wasm")));
        tags.push_str("\" as=\"fetch\" type=\"application/wasm\" crossorigin=\"anonymous\">");
    }
    tags.push_str("<link rel=\"modulepreload\" href=\"");
    tags.push_str(&href(format!("{pkg_path}/{split_loader}")));
    tags.push_str("\" crossorigin=\"anonymous\">");
    Some(tags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use leptos::reactive::owner::{ArcStoredValue, Owner};

    fn manifest(pkg_path: &str) -> WasmSplitManifest {
        let chunks = HashMap::from([
            (
                "__about_route_view_1".to_string(),
                vec![
                    "chunk_7".to_string(),
                    "split___about_route_view_1".to_string(),
                ],
            ),
            (
                "__home_route_view_2".to_string(),
                vec!["chunk_8".to_string()],
            ),
        ]);
        WasmSplitManifest(ArcStoredValue::new((
            pkg_path.to_string(),
            chunks,
            "__wasm_split.js".to_string(),
        )))
    }

    fn reached(routes: &[&'static str]) -> PrefetchLazyFn {
        PrefetchLazyFn(ArcStoredValue::new(routes.iter().copied().collect()))
    }

    #[test]
    fn every_chunk_of_the_reached_routes_and_the_loader_is_preloaded() {
        let tags = tags_for(&manifest("/pkg"), &["__about_route_view_1"]);
        assert_eq!(
            tags.as_deref(),
            Some(
                "<link rel=\"preload\" href=\"/pkg/chunk_7.wasm\" as=\"fetch\" type=\"application/wasm\" crossorigin=\"anonymous\">\
                 <link rel=\"preload\" href=\"/pkg/split___about_route_view_1.wasm\" as=\"fetch\" type=\"application/wasm\" crossorigin=\"anonymous\">\
                 <link rel=\"modulepreload\" href=\"/pkg/__wasm_split.js\" crossorigin=\"anonymous\">"
            )
        );
        let quoted = tags_for(&manifest("/a\"b"), &[]).unwrap_or_default();
        assert!(
            quoted.contains("href=\"/a&quot;b/__wasm_split.js\""),
            "{quoted}"
        );
    }

    #[test]
    fn a_page_gets_the_tags_of_the_manifest_in_its_context_and_none_without_one() {
        Owner::new().with(|| {
            let both = reached(&["__home_route_view_2", "__about_route_view_1"]);
            assert_eq!(for_page(&both), None, "no manifest was read");
            assert_eq!(for_page(&reached(&[])), None);

            // As Leptos' own HydrationScripts leaves it.
            provide_context(manifest("/pkg"));
            let from_leptos = for_page(&both).unwrap_or_default();
            // In the routes' sorted order, whatever order the set holds them in.
            let about = from_leptos.find("chunk_7").unwrap_or(usize::MAX);
            let home = from_leptos.find("chunk_8").unwrap_or(0);
            assert!(about < home, "{from_leptos}");

            // As `hydration_scripts` leaves it: the same text, kept for the next page.
            let preloads = ChunkPreloads::new(manifest("/pkg"));
            provide_context(preloads.clone());
            assert_eq!(for_page(&both).as_deref(), Some(&*from_leptos));
            let again = for_page(&both).unwrap_or_default();
            let kept = preloads
                .0
                .written
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            assert!(Arc::ptr_eq(
                &again,
                &kept[&vec!["__about_route_view_1", "__home_route_view_2"]]
            ));
        });
    }

    #[test]
    fn the_remembered_sets_are_bounded() {
        let preloads = ChunkPreloads::new(manifest("/pkg"));
        let names: Vec<&'static str> = (0..REMEMBERED_SETS + 10)
            .map(|i| &*Box::leak(format!("__route_{i}").into_boxed_str()))
            .collect();
        for name in &names {
            assert!(preloads.tags(vec![*name]).is_some());
        }
        let kept = preloads
            .0
            .written
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        assert_eq!(kept.len(), REMEMBERED_SETS);
    }
}
