//! The general page (`/app`): a single-page app with client-side routes
//! between the overview, the notes, the site's activity and the help, inside the host's iframe.

use leptos::prelude::*;
use leptos_router::components::{A, Outlet};

use super::hydration::hydrated;

#[component]
pub(crate) fn AppShell() -> impl IntoView {
    let hydrated = hydrated();

    view! {
        <div class="app" data-hydrated=move || hydrated.get().to_string()>
            <nav class="tabs" aria-label="Sections">
                <A href="/app" exact=true>"Overview"</A>
                <A href="/app/notes">"Notes"</A>
                <A href="/app/activity">"Activity"</A>
                <A href="/app/help">"Help"</A>
            </nav>
            <main class="page">
                <Outlet/>
            </main>
        </div>
    }
}
