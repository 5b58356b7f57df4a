//! The site's notes: list, create, edit and delete. Everyone on the site
//! reads them; only the author may change one (the server decides). The list
//! is a resource keyed on the versions of the three actions that change it.

use leptos::prelude::*;

use super::status::{ErrorBox, Loading, format_time};
use crate::api::{
    error::ApiError,
    notes::{CreateNote, delete_note, list_notes, update_note},
    types::{MAX_NOTE_BODY, MAX_NOTE_TITLE, Note},
};

/// An answer, with the id of the note it is for.
type Outcome<T> = (i64, Result<T, ApiError>);
type Save = MultiAction<(i64, String, String), Outcome<Note>>;
type Remove = MultiAction<i64, Outcome<()>>;

#[component]
pub(crate) fn NotesView() -> impl IntoView {
    let create = ServerAction::<CreateNote>::new();
    let save: Save = MultiAction::new(|(id, title, body): &(i64, String, String)| {
        let (id, title, body) = (*id, title.clone(), body.clone());
        async move { (id, update_note(id, title, body).await) }
    });
    let remove: Remove = MultiAction::new(|id: &i64| {
        let id = *id;
        async move { (id, delete_note(id).await) }
    });
    // Any finished create, save or delete reloads the list.
    let notes =
        Resource::new(move || (create.version().get(), save.version().get(), remove.version().get()), |_| list_notes());
    let retry = Callback::new(move |_| notes.refetch());
    // The list lives outside the resource's closure, so a reload updates rows
    // by key instead of rebuilding them (an open edit elsewhere survives).
    let list = Memo::new(move |_| notes.get().and_then(Result::ok).unwrap_or_default());
    let loaded_empty = move || matches!(notes.get(), Some(Ok(ref l)) if l.is_empty());

    view! {
        <h1>"Team notes"</h1>
        <NewNote create/>
        <Transition fallback=|| view! { <Loading what="notes"/> }>
            {move || match notes.get() {
                Some(Err(error)) => Some(view! { <ErrorBox error retry/> }),
                _ => None,
            }}
            <Show when=loaded_empty>
                <p class="muted" id="no-notes">"No notes yet. Write the first one."</p>
            </Show>
            <ul class="notes" id="notes">
                <For each=move || list.get() key=|n| (n.id, n.updated_at) let:note>
                    <NoteItem note save remove/>
                </For>
            </ul>
        </Transition>
    }
}

#[component]
fn NewNote(create: ServerAction<CreateNote>) -> impl IntoView {
    let title = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    // A saved note empties the form; a refused one keeps what was typed.
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            title.set(String::new());
            body.set(String::new());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        create.dispatch(CreateNote { title: title.get_untracked(), body: body.get_untracked() });
    };

    view! {
        <form class="card note-form" on:submit=submit>
            <label for="note-title">"Title"</label>
            <input id="note-title" maxlength=MAX_NOTE_TITLE.to_string() required
                prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev))/>
            <label for="note-body">"Note"</label>
            <textarea id="note-body" rows="3" maxlength=MAX_NOTE_BODY.to_string()
                prop:value=move || body.get() on:input=move |ev| body.set(event_target_value(&ev))></textarea>
            <button id="note-create" class="button" type="submit" disabled=move || create.pending().get()>
                {move || if create.pending().get() { "Saving…" } else { "Add note" }}
            </button>
            {move || match create.value().get() {
                Some(Err(error)) => Some(view! { <ErrorBox error/> }),
                _ => None,
            }}
        </form>
    }
    .into_any()
}

#[component]
fn NoteItem(note: Note, save: Save, remove: Remove) -> impl IntoView {
    let editing = RwSignal::new(false);
    let hide_error = RwSignal::new(false);
    let (saved_title, saved_body) = (note.title.clone(), note.body.clone());
    let title = RwSignal::new(note.title.clone());
    let body = RwSignal::new(note.body.clone());
    let id = note.id;
    let saving = move || in_flight(save, id, |input| input.0);
    let removing = move || in_flight(remove, id, |input| *input);
    // A saved edit closes the editor (the reloaded list shows it).
    Effect::new(move |_| {
        if matches!(last_answer(save, id), Some(Ok(_))) {
            editing.set(false);
        }
    });
    let error = move || -> Option<ApiError> {
        if hide_error.get() {
            return None;
        }
        last_answer(save, id).and_then(Result::err).or_else(|| last_answer(remove, id).and_then(Result::err))
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
                <input class="note-title-input" prop:value=move || title.get()
                    on:input=move |ev| title.set(event_target_value(&ev))/>
                <textarea class="note-body-input" rows="3" prop:value=move || body.get()
                    on:input=move |ev| body.set(event_target_value(&ev))></textarea>
            </Show>
            <p class="muted note-meta">{format!("by {author} · {}", format_time(note.updated_at))}</p>
            <Show when=move || note.mine>
                <div class="note-actions">
                    <Show when=move || editing.get() fallback=move || view! {
                        <button class="button subtle note-edit" on:click=move |_| editing.set(true)>"Edit"</button>
                        <button class="button danger note-delete" disabled=removing
                            on:click=move |_| { hide_error.set(false); remove.dispatch(id); }>"Delete"</button>
                    }>
                        <button class="button note-save" disabled=saving
                            on:click=move |_| {
                                hide_error.set(false);
                                save.dispatch((id, title.get_untracked(), body.get_untracked()));
                            }>
                            {move || if saving() { "Saving…" } else { "Save" }}
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

/// Whether a call of `action` for note `id` is still out.
fn in_flight<I, O>(action: MultiAction<I, O>, id: i64, id_of: fn(&I) -> i64) -> bool
where
    I: Send + Sync + 'static,
    O: Send + Sync + 'static,
{
    action
        .submissions()
        .with(|calls| calls.iter().any(|c| c.pending().get() && c.input().with(|i| i.as_ref().map(id_of)) == Some(id)))
}

/// The newest answer `action` got for note `id`.
fn last_answer<I, T>(action: MultiAction<I, Outcome<T>>, id: i64) -> Option<Result<T, ApiError>>
where
    I: Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    action.submissions().with(|calls| {
        calls
            .iter()
            .rev()
            .find_map(|c| c.value().with(|v| v.as_ref().filter(|(for_id, _)| *for_id == id).map(|(_, r)| r.clone())))
    })
}
