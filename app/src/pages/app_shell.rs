//! The general page (`/app`): a single-page app with client-side routes
//! between the overview, the notes, the site's activity and the help, inside the host's iframe.

use leptos::prelude::*;
use leptos_router::{components::Outlet, hooks::use_location};

use super::hydration::hydrated;

#[component]
pub(crate) fn AppShell() -> impl IntoView {
    let hydrated = hydrated();
    let path = use_location().pathname;

    view! {
        <div class="app" data-hydrated=move || hydrated.get().to_string()>
            <nav class="tabs" aria-label="Sections">
                {tab(path, "/app", "Overview", true)}
                {tab(path, "/app/notes", "Notes", false)}
                {tab(path, "/app/activity", "Activity", false)}
                {tab(path, "/app/help", "Help", false)}
            </nav>
            <main class="page">
                <Outlet/>
            </main>
        </div>
    }
}

/// A plain link (the router turns its clicks into client-side navigation),
/// marked as the current page when the path is `href` or, unless `exact`,
/// below it. Plain rather than the router's `<A>`, which costs a resolved
/// path and several memos per link on every server render.
fn tab(path: Memo<String>, href: &'static str, label: &'static str, exact: bool) -> impl IntoView {
    let current = move || {
        let path = path.get();
        let here = path == href || (!exact && path.strip_prefix(href).is_some_and(|rest| rest.starts_with('/')));
        here.then_some("page")
    };
    view! { <a href=href aria-current=current>{label}</a> }
}
