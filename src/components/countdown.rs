//! A live "time left" that runs in the browser only (checklist R10): the server renders nothing
//! for it, so the hydrated page matches, and the clock starts ticking once the app is interactive.
//! It never triggers a refresh; the server decides that.

use leptos::prelude::*;

use crate::components::time_text::format_remaining;

#[component]
pub fn Countdown(#[prop(into)] until: Signal<u64>) -> impl IntoView {
    let now = RwSignal::new(None::<u64>);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            let tick = move || now.set(Some((js_sys::Date::now() / 1000.0) as u64));
            tick();
            if let Ok(handle) = set_interval_with_handle(tick, std::time::Duration::from_secs(1)) {
                on_cleanup(move || handle.clear());
            }
        }
    });
    view! {
        <span class="countdown" data-testid="countdown">
            {move || {
                now.get()
                    .map(|now| format!(" ({} left)", format_remaining(until.get() as i64 - now as i64)))
            }}
        </span>
    }
}
