//! A note linked to a Jira issue: the link form (for the note's author) and
//! the issue's newest events, which its webhooks brought.

use leptos::prelude::*;

use super::status::{ErrorBox, format_time};
use crate::api::{notes::LinkNote, types::ActivityEntry};

/// The issue's events under the note, if it is linked.
#[component]
pub(crate) fn IssueEvents(issue_key: Option<String>, events: Vec<ActivityEntry>) -> impl IntoView {
    issue_key.map(|key| {
        let empty = events.is_empty().then(|| view! { <li class="muted">"No events for this issue yet."</li> });
        view! {
            <div class="note-issue">
                <p class="muted note-linked">{format!("Linked to {key}")}</p>
                <ul class="note-events">
                    {empty}
                    {events.into_iter().map(|e| view! {
                        <li class="note-event">{format!("{} · {}", format_time(e.processed_at), e.summary)}</li>
                    }).collect_view()}
                </ul>
            </div>
        }
    })
}

/// Links the note to an issue (empty: unlinks); `linked` runs after a success.
#[component]
pub(crate) fn LinkBox(id: i64, current: Option<String>, linked: Callback<()>) -> impl IntoView {
    let link = ServerAction::<LinkNote>::new();
    let key = RwSignal::new(current.unwrap_or_default());
    Effect::new(move |_| {
        if let Some(Ok(_)) = link.value().get() {
            linked.run(());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        link.dispatch(LinkNote { id, issue_key: key.get_untracked() });
    };
    view! {
        <form class="link" on:submit=submit>
            <input class="link-key" placeholder="Issue key" aria-label="Link to issue"
                prop:value=move || key.get() on:input=move |ev| key.set(event_target_value(&ev))/>
            <button class="button subtle link-button" type="submit" disabled=move || link.pending().get()>
                "Link"
            </button>
            {move || match link.value().get() {
                Some(Err(error)) => Some(view! { <ErrorBox error/> }),
                _ => None,
            }}
        </form>
    }
}
