//! The general page (`/app`): a single-page app whose tabs (the overview, the
//! notes, the site's activity, the help, and the vendor's pages) switch
//! inside the host's iframe.

use leptos::{either::EitherOf6 as Tab, prelude::*}; // no-demo: use leptos::{either::EitherOf4 as Tab, prelude::*};

use super::{activity::ActivityView, notes::NotesView}; // demo
use super::{help::Help, hydration::hydrated, not_found::NotFound, overview::Overview};
use crate::router::{CurrentPath, Page, current_path, follow_link};

#[component]
pub(crate) fn AppShell() -> impl IntoView {
    let hydrated = hydrated();
    let path = current_path();
    // A memo, so following the link of the tab already shown keeps it as it is.
    let page = Memo::new(move |_| Page::at(&path.get()));

    view! {
        <div class="app" data-hydrated=move || hydrated.get().to_string()>
            <nav class="tabs" aria-label="Sections">
                {tab(path, "/app", "Overview")}
                {tab(path, "/app/notes", "Notes")} // demo
                {tab(path, "/app/activity", "Activity")} // demo
                {tab(path, "/app/help", "Help")}
                {crate::vendor::PAGES.iter().map(|p| tab(path, p.path, p.label)).collect_view()}
            </nav>
            <main class="page">
                {move || match page.get() {
                    Page::Overview => Tab::A(view! { <Overview/> }),
                    Page::Help => Tab::B(view! { <Help/> }),
                    Page::Vendor(i) => Tab::C(crate::vendor::page(i)),
                    Page::Notes => Tab::E(view! { <NotesView/> }), // demo
                    Page::Activity => Tab::F(view! { <ActivityView/> }), // demo
                    _ => Tab::D(view! { <NotFound/> }),
                }}
            </main>
        </div>
    }
}

/// A link to a tab, marked as the current page when the path is `href`.
fn tab(path: CurrentPath, href: &'static str, label: &'static str) -> impl IntoView {
    let current = move || (path.get() == href).then_some("page");
    view! { <a href=href aria-current=current on:click=move |event| follow_link(event, href)>{label}</a> }
}
