//! The site's notes: list, create, edit and delete. Everyone on the site
//! reads them; only the author may change one (the server decides).

use leptos::prelude::*;

use super::status::{ErrorBox, Loading, format_time};
use crate::api::{
    client::call,
    error::ApiError,
    notes::{create_note, delete_note, list_notes, update_note},
    types::{MAX_NOTE_BODY, MAX_NOTE_TITLE, Note},
};

#[component]
pub fn NotesView() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let notes = Resource::new(move || version.get(), |_| call(list_notes));
    let refresh = Callback::new(move |_| version.update(|v| *v += 1));
    // The list lives outside the resource's closure, so a refetch updates rows
    // by key instead of rebuilding them (an open edit elsewhere survives).
    let list = Memo::new(move |_| notes.get().and_then(Result::ok).unwrap_or_default());
    let loaded_empty = move || matches!(notes.get(), Some(Ok(ref l)) if l.is_empty());

    view! {
        <h1>"Team notes"</h1>
        <NewNote on_saved=refresh/>
        <Transition fallback=|| view! { <Loading what="notes"/> }>
            {move || match notes.get() {
                Some(Err(error)) => Some(view! { <ErrorBox error retry=refresh/> }),
                _ => None,
            }}
            <Show when=loaded_empty>
                <p class="muted" id="no-notes">"No notes yet. Write the first one."</p>
            </Show>
            <ul class="notes" id="notes">
                <For each=move || list.get() key=|n| (n.id, n.updated_at) let:note>
                    <NoteItem note on_changed=refresh/>
                </For>
            </ul>
        </Transition>
    }
}

#[component]
fn NewNote(on_saved: Callback<()>) -> impl IntoView {
    let title = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let save = Action::new(move |(t, b): &(String, String)| {
        let (t, b) = (t.clone(), b.clone());
        call(move || create_note(t.clone(), b.clone()))
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            title.set(String::new());
            body.set(String::new());
            on_saved.run(());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch((title.get_untracked(), body.get_untracked()));
    };

    view! {
        <form class="card note-form" on:submit=submit>
            <label for="note-title">"Title"</label>
            <input id="note-title" maxlength=MAX_NOTE_TITLE.to_string() required
                prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev))/>
            <label for="note-body">"Note"</label>
            <textarea id="note-body" rows="3" maxlength=MAX_NOTE_BODY.to_string()
                prop:value=move || body.get() on:input=move |ev| body.set(event_target_value(&ev))></textarea>
            <button id="note-create" class="button" type="submit" disabled=move || save.pending().get()>
                {move || if save.pending().get() { "Saving…" } else { "Add note" }}
            </button>
            {move || match save.value().get() {
                Some(Err(error)) => Some(view! { <ErrorBox error/> }),
                _ => None,
            }}
        </form>
    }
    .into_any()
}

#[component]
fn NoteItem(note: Note, on_changed: Callback<()>) -> impl IntoView {
    let editing = RwSignal::new(false);
    let hide_error = RwSignal::new(false);
    let (saved_title, saved_body) = (note.title.clone(), note.body.clone());
    let title = RwSignal::new(note.title.clone());
    let body = RwSignal::new(note.body.clone());
    let id = note.id;
    let save = Action::new(move |(t, b): &(String, String)| {
        let (t, b) = (t.clone(), b.clone());
        call(move || update_note(id, t.clone(), b.clone()))
    });
    let remove = Action::new(move |_: &()| call(move || delete_note(id)));
    Effect::new(move |_| {
        let saved = matches!(save.value().get(), Some(Ok(_)));
        let removed = matches!(remove.value().get(), Some(Ok(())));
        if saved || removed {
            editing.set(false);
            on_changed.run(());
        }
    });
    let error = move || -> Option<ApiError> {
        if hide_error.get() {
            return None;
        }
        match (save.value().get(), remove.value().get()) {
            (Some(Err(e)), _) | (_, Some(Err(e))) => Some(e),
            _ => None,
        }
    };
    // Cancel puts back what is saved and forgets the last error.
    let cancel = Callback::new(move |_: ()| {
        title.set(saved_title.clone());
        body.set(saved_body.clone());
        hide_error.set(true);
        editing.set(false);
    });
    let author = if note.mine { "you".to_string() } else { note.author_account_id.clone() };

    view! {
        <li class="card note" data-id=note.id.to_string() data-mine=note.mine.to_string()>
            <Show when=move || editing.get() fallback=move || view! {
                <h2 class="note-title">{move || title.get()}</h2>
                <p class="note-body">{move || body.get()}</p>
            }>
                <input class="note-title-input" prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev))/>
                <textarea class="note-body-input" rows="3" prop:value=move || body.get() on:input=move |ev| body.set(event_target_value(&ev))></textarea>
            </Show>
            <p class="muted note-meta">{format!("by {author} · {}", format_time(note.updated_at))}</p>
            <Show when=move || note.mine>
                <div class="note-actions">
                    <Show when=move || editing.get() fallback=move || view! {
                        <button class="button subtle note-edit" on:click=move |_| editing.set(true)>"Edit"</button>
                        <button class="button danger note-delete" disabled=move || remove.pending().get()
                            on:click=move |_| { hide_error.set(false); remove.dispatch(()); }>"Delete"</button>
                    }>
                        <button class="button note-save" disabled=move || save.pending().get()
                            on:click=move |_| { hide_error.set(false); save.dispatch((title.get_untracked(), body.get_untracked())); }>
                            {move || if save.pending().get() { "Saving…" } else { "Save" }}
                        </button>
                        <button class="button subtle note-cancel" on:click=move |_| cancel.run(())>"Cancel"</button>
                    </Show>
                </div>
            </Show>
            {move || error().map(|error| view! { <ErrorBox error/> })}
        </li>
    }
    // Type erasure keeps the list's view type shallow enough to compile to wasm.
    .into_any()
}
