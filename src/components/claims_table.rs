//! A token's claims as a table (names and shortened values; never the token).

use leptos::prelude::*;

use crate::account::ClaimRow;

#[component]
pub fn ClaimsTable(caption: &'static str, rows: Vec<ClaimRow>) -> impl IntoView {
    view! {
        <div class="table-scroll">
            <table class="claims">
                <caption>{caption}</caption>
                <thead>
                    <tr><th scope="col">"Claim"</th><th scope="col">"Value"</th></tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|row| view! {
                            <tr><th scope="row"><code>{row.name}</code></th><td>{row.value}</td></tr>
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
