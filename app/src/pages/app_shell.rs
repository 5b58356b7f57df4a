//! The general page (`/app`): a single-page app whose tabs (the overview, the
//! notes, the site's activity and the help) switch inside the host's iframe.

use leptos::{either::EitherOf5, prelude::*};

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
            </nav>
            <main class="page">
                {move || match page.get() {
                    Page::Overview => EitherOf5::A(view! { <Overview/> }),
                    Page::Notes => EitherOf5::B(view! { <NotesView/> }),
                    Page::Activity => EitherOf5::C(view! { <ActivityView/> }),
                    Page::Help => EitherOf5::D(view! { <Help/> }),
                    _ => EitherOf5::E(view! { <NotFound/> }),
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
