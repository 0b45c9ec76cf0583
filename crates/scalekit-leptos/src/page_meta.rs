//! Puts what `leptos_meta` collected during a render (the `<title>`, head elements, `<html>` and
//! `<body>` attributes) into the rendered page.
//!
//! `ServerMetaContextOutput::inject_meta_context` is the only way to read that output, and it
//! searches the whole page for `</head>` and then copies the page to insert into it: about 3% of
//! a dashboard request. Here it runs on a skeleton of the four markers it looks for, joined by a
//! separator no page text carries, so its searches and copy cover a few bytes. The pieces it
//! wrote are read back between the separators and spliced into the page where Leptos would put
//! them, with one SIMD search per piece and one copy.

use futures::StreamExt;
use leptos_meta::ServerMetaContextOutput;

/// Between the skeleton's markers. A NUL is a parse error in HTML text, so no title or head
/// element a page means to send holds one; and a one-byte separator is found with `memchr`,
/// where a longer one would set up a two-way searcher per page.
const SEPARATOR: char = '\u{0}';
const HTML_OPEN: &str = "<html";
const BODY_OPEN: &str = "<body";
const HEAD_MARKER: &str = "<!--HEAD-->";
const HEAD_CLOSE: &str = "</head>";
/// The markers in an order in which each of Leptos' searches (`</head>`, `<!--HEAD-->`, `<html`,
/// `<body`, each for the first match after the earlier insertions) finds the skeleton's own.
const SKELETON: &str = "<body\u{0}<html\u{0}<!--HEAD-->\u{0}</head>";

/// The page with the meta context's output in it, and `more_head` (the chunk preloads) after the
/// head elements. A page with neither `<!--HEAD-->` nor `</head>` gets no head elements (Leptos'
/// own injection panics there).
pub(crate) async fn with_meta(
    output: ServerMetaContextOutput,
    page: String,
    more_head: &str,
) -> String {
    let filled: String = output
        .inject_meta_context(futures::stream::iter([SKELETON.to_owned()]))
        .await
        .collect()
        .await;
    let Some(pieces) = MetaPieces::read(&filled) else {
        tracing::error!("a page's head elements hold a NUL; they were left out of the page");
        return page;
    };
    pieces.splice_into(page, more_head)
}

/// What `inject_meta_context` wrote after each marker of the skeleton.
#[derive(Debug, PartialEq)]
struct MetaPieces<'a> {
    html_attributes: &'a str,
    body_attributes: &'a str,
    head: &'a str,
}

impl<'a> MetaPieces<'a> {
    fn read(filled: &'a str) -> Option<Self> {
        let mut parts = filled.split(SEPARATOR);
        let body_attributes = parts.next()?.strip_prefix(BODY_OPEN)?;
        let html_attributes = parts.next()?.strip_prefix(HTML_OPEN)?;
        let head = parts.next()?.strip_prefix(HEAD_MARKER)?;
        let pieces = Self {
            html_attributes,
            body_attributes,
            head,
        };
        (parts.next()? == HEAD_CLOSE && parts.next().is_none()).then_some(pieces)
    }

    /// Each piece where Leptos puts it: the head's, then `more_head`, after `<!--HEAD-->` (or
    /// before `</head>` without one), the attributes right after `<html` and `<body`. The tags are
    /// looked for in the page as rendered, so a title that spells `<body` cannot draw the body's
    /// attributes.
    fn splice_into(self, page: String, more_head: &str) -> String {
        let find = |needle: &str| memchr::memmem::find(page.as_bytes(), needle.as_bytes());
        let mut inserts: Vec<(usize, &str)> = Vec::with_capacity(4);
        if !self.head.is_empty() || !more_head.is_empty() {
            let at = find(HEAD_MARKER)
                .map(|at| at + HEAD_MARKER.len())
                .or_else(|| find(HEAD_CLOSE));
            // The sort below is stable: the head elements stay before `more_head`.
            inserts.extend(at.map(|at| (at, self.head)));
            inserts.extend(at.map(|at| (at, more_head)));
        }
        for (tag, piece) in [
            (HTML_OPEN, self.html_attributes),
            (BODY_OPEN, self.body_attributes),
        ] {
            if !piece.is_empty() {
                inserts.extend(find(tag).map(|at| (at + tag.len(), piece)));
            }
        }
        if inserts.is_empty() {
            return page;
        }
        inserts.sort_by_key(|(at, _)| *at);
        let added: usize = inserts.iter().map(|(_, piece)| piece.len()).sum();
        let mut out = String::with_capacity(page.len() + added);
        let mut from = 0;
        for (at, piece) in inserts {
            out.push_str(&page[from..at]);
            out.push_str(piece);
            from = at;
        }
        out.push_str(&page[from..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leptos::prelude::*;
    use leptos::reactive::owner::Owner;
    use leptos_meta::{Body, Html, Meta, ServerMetaContext, Title};

    const PAGE: &str = "<!DOCTYPE html><html lang=\"en\"><head><!--HEAD--><meta charset=\"utf-8\">\
        </head><body><main>hi</main></body></html>";

    fn pieces<'a>(html: &'a str, body: &'a str, head: &'a str) -> MetaPieces<'a> {
        MetaPieces {
            html_attributes: html,
            body_attributes: body,
            head,
        }
    }

    #[test]
    fn each_piece_lands_after_its_marker() {
        let page = pieces(" data-theme=\"dark\"", " class=\"x\"", "<title>T</title>")
            .splice_into(PAGE.to_owned(), "");
        assert_eq!(
            page,
            "<!DOCTYPE html><html data-theme=\"dark\" lang=\"en\"><head><!--HEAD--><title>T</title>\
             <meta charset=\"utf-8\"></head><body class=\"x\"><main>hi</main></body></html>"
        );
    }

    #[test]
    fn without_the_marker_the_head_goes_before_its_end() {
        let page = "<html><head><meta charset=\"utf-8\"></head><body></body></html>";
        let page = pieces("", "", "<title>T</title>").splice_into(page.to_owned(), "");
        assert_eq!(
            page,
            "<html><head><meta charset=\"utf-8\"><title>T</title></head><body></body></html>"
        );
    }

    #[test]
    fn more_head_follows_the_head_elements_even_without_any() {
        let page = pieces("", "", "<title>T</title>").splice_into(PAGE.to_owned(), "<link p>");
        assert!(
            page.contains("<!--HEAD--><title>T</title><link p><meta"),
            "{page}"
        );
        let page = pieces("", "", "").splice_into(PAGE.to_owned(), "<link p>");
        assert!(page.contains("<!--HEAD--><link p><meta"), "{page}");
    }

    #[test]
    fn a_page_without_a_head_is_left_as_it_is() {
        let page = pieces("", "", "<title>T</title>").splice_into("<p>fragment</p>".to_owned(), "");
        assert_eq!(page, "<p>fragment</p>");
    }

    #[test]
    fn a_title_spelling_body_does_not_draw_the_body_attributes() {
        let page =
            pieces("", " class=\"x\"", "<title><body</title>").splice_into(PAGE.to_owned(), "");
        assert!(page.contains("<!--HEAD--><title><body</title><meta"));
        assert!(page.contains("</head><body class=\"x\"><main>"));
    }

    #[test]
    fn the_skeleton_is_read_back_whole_or_not_at_all() {
        let skeleton = |html: &str, body: &str, head: &str| {
            [
                format!("{BODY_OPEN}{body}"),
                format!("{HTML_OPEN}{html}"),
                format!("{HEAD_MARKER}{head}"),
                HEAD_CLOSE.to_owned(),
            ]
            .join(&SEPARATOR.to_string())
        };
        assert_eq!(skeleton("", "", ""), SKELETON);
        let filled = skeleton(" a", " b", "<title>T</title>");
        assert_eq!(
            MetaPieces::read(&filled),
            Some(pieces(" a", " b", "<title>T</title>"))
        );
        let smuggled = skeleton("", "", &format!("<title>{SEPARATOR}</title>"));
        assert_eq!(MetaPieces::read(&smuggled), None);
        assert_eq!(MetaPieces::read("<html"), None);
    }

    /// A render's meta output, with the owner that keeps its title registered.
    fn rendered_meta() -> (Owner, ServerMetaContextOutput) {
        let (context, output) = ServerMetaContext::new();
        let owner = Owner::new();
        owner.with(|| {
            provide_context(context);
            _ = view! {
                <Title text="Dashboard · A &amp; B"/>
                <Meta name="description" content="signed in"/>
                <Html {..} lang="en" data-theme="dark"/>
                <Body {..} class="signed-in"/>
            }
            .to_html();
        });
        (owner, output)
    }

    #[tokio::test]
    async fn the_page_is_the_one_leptos_own_injection_makes() {
        _ = any_spawner::Executor::init_tokio();
        let (_leptos_owner, leptos_output) = rendered_meta();
        let expected: String = leptos_output
            .inject_meta_context(futures::stream::iter([PAGE.to_owned()]))
            .await
            .collect()
            .await;
        let (_owner, output) = rendered_meta();
        let page = with_meta(output, PAGE.to_owned(), "").await;
        assert!(
            page.contains("<title>Dashboard · A &amp; B</title>"),
            "{page}"
        );
        assert!(page.contains("class=\"signed-in\""), "{page}");
        assert_eq!(page, expected);
    }
}
