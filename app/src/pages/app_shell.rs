//! The general page (`/app`): a single-page app whose tabs (the overview, the
//! notes, the site's activity, the help, and the vendor's pages) switch
//! inside the host's iframe.

use leptos::{either::EitherOf6, prelude::*};

use super::{
    activity::ActivityView, help::Help, hydration::hydrated, not_found::NotFound, notes::NotesView, overview::Overview,
};
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
                {tab(path, "/app/notes", "Notes")}
                {tab(path, "/app/activity", "Activity")}
                {tab(path, "/app/help", "Help")}
                {crate::vendor::PAGES.iter().map(|p| tab(path, p.path, p.label)).collect_view()}
            </nav>
            <main class="page">
                {move || match page.get() {
                    Page::Overview => EitherOf6::A(view! { <Overview/> }),
                    Page::Notes => EitherOf6::B(view! { <NotesView/> }),
                    Page::Activity => EitherOf6::C(view! { <ActivityView/> }),
                    Page::Help => EitherOf6::D(view! { <Help/> }),
                    Page::Vendor(i) => EitherOf6::E(crate::vendor::page(i)),
                    _ => EitherOf6::F(view! { <NotFound/> }),
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
