//! The landing page at `/`: what this app is, and live proof that the page
//! hydrated (a counter, and a server-function call made from the browser).

use leptos::prelude::*;

use super::hydration::{after_hydration, hydrated};
use crate::api::app_info::app_info;

#[component]
pub(crate) fn HomePage() -> impl IntoView {
    let count = RwSignal::new(0);
    let hydrated = hydrated();
    let info = after_hydration(app_info);

    view! {
        <main class="page">
            <h1>"Atlassian Connect app"</h1>
            <p>
                "A Connect app for Jira and Confluence Cloud. Install it from its descriptor at "
                <a href="/atlassian-connect.json">"/atlassian-connect.json"</a> "."
            </p>
            <section class="card">
                <p id="hydrated" data-hydrated=move || hydrated.get().to_string()>
                    {move || if hydrated.get() { "hydrated=yes" } else { "hydrated=no" }}
                </p>
                <button id="inc" class="button" on:click=move |_| count.update(|n| *n += 1)>
                    {move || format!("Clicked {} times", count.get())}
                </button>
                <p id="server-version">
                    {move || match info.get() {
                        None => "version=…".to_string(),
                        Some(Ok(i)) => format!("version={}", i.version),
                        Some(Err(_)) => "version=unavailable".to_string(),
                    }}
                </p>
            </section>
        </main>
    }
}
