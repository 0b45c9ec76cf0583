//! A token's claims as a table (names and shortened values; never the token).
//!
//! The rows are written as one HTML string rather than a view per cell: a table of forty claims
//! is two hundred elements, and as views they were a quarter of the dashboard's server render.
//! Every name and value is escaped ([`escape_text`]); nothing else goes into the string.

use leptos::prelude::*;

use crate::account::ClaimRow;

#[component]
pub fn ClaimsTable(
    caption: &'static str,
    rows: Vec<ClaimRow>,
    /// The rows already written (the server's per-session layout), else written here.
    html: Option<String>,
) -> impl IntoView {
    let body = html.unwrap_or_else(|| rows_html(&rows));
    view! {
        <div class="table-scroll">
            <table class="claims">
                <caption>{caption}</caption>
                <thead>
                    <tr><th scope="col">"Claim"</th><th scope="col">"Value"</th></tr>
                </thead>
                <tbody inner_html=body></tbody>
            </table>
        </div>
    }
}

/// The table body for `rows`: one `<tr>` per claim, name and value escaped.
pub fn rows_html(rows: &[ClaimRow]) -> String {
    let mut html =
        String::with_capacity(rows.iter().map(|r| r.name.len() + r.value.len() + 60).sum());
    for row in rows {
        html.push_str(r#"<tr><th scope="row"><code>"#);
        escape_text(&mut html, &row.name);
        html.push_str("</code></th><td>");
        escape_text(&mut html, &row.value);
        html.push_str("</td></tr>");
    }
    html
}

/// Appends `text` with the five characters that mean something in HTML replaced by entities,
/// so it is text wherever it lands (element content or a quoted attribute): html-escape's
/// quoted-attribute encoding, as the callback's failure page and the dev provider's pages use.
pub fn escape_text(out: &mut String, text: &str) {
    html_escape::encode_quoted_attribute_to_string(text, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, value: &str) -> ClaimRow {
        ClaimRow {
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn claim_names_and_values_are_escaped_as_text() {
        let html = rows_html(&[
            row("name", r#"<script>alert("x")</script> & 'y'"#),
            row("<b>", "plain"),
        ]);
        assert_eq!(
            html,
            concat!(
                r#"<tr><th scope="row"><code>name</code></th><td>"#,
                "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;y&#x27;</td></tr>",
                r#"<tr><th scope="row"><code>&lt;b&gt;</code></th><td>plain</td></tr>"#,
            )
        );
        assert!(!html.contains("<script"));
    }

    #[test]
    fn text_without_special_characters_is_unchanged() {
        let mut out = String::new();
        escape_text(&mut out, "usr_1 · 2026-01-01 00:00:00 UTC");
        assert_eq!(out, "usr_1 · 2026-01-01 00:00:00 UTC");
        assert_eq!(rows_html(&[]), "");
    }
}
