//! "Share": a note posted as a comment on a Jira issue or Confluence page,
//! authored by the user who clicks (the server acts as them).

use leptos::{either::Either, prelude::*};

use super::status::ErrorBox;
use crate::api::activity::ShareNote;

#[component]
pub(crate) fn ShareBox(id: i64) -> impl IntoView {
    let share = ServerAction::<ShareNote>::new();
    let target = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        share.dispatch(ShareNote { id, target: target.get_untracked() });
    };
    view! {
        <form class="share" on:submit=submit>
            <input class="share-target" placeholder="Issue key or page id" aria-label="Share to"
                prop:value=move || target.get() on:input=move |ev| target.set(event_target_value(&ev))/>
            <button class="button subtle share-button" type="submit" disabled=move || share.pending().get()>
                {move || if share.pending().get() { "Sharing…" } else { "Share" }}
            </button>
            {move || match share.value().get() {
                Some(Ok(done)) => {
                    let text = format!("Shared to {} as your comment {}", done.target, done.comment_id);
                    Some(Either::Left(view! { <span class="share-done">{text}</span> }))
                }
                Some(Err(error)) => Some(Either::Right(view! { <ErrorBox error/> })),
                None => None,
            }}
        </form>
    }
}
