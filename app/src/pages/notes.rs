//! The site's notes: list, create, edit and delete. Everyone on the site
//! reads them; only the author may change one (the server decides). The list
//! is a resource keyed on the three actions that change it: it reloads when
//! one of them succeeds, and a refused call leaves it (and open edits) alone.

use leptos::{either::Either, prelude::*};

use super::{
    issue_link::{IssueEvents, LinkBox},
    share::ShareBox,
    status::{ErrorBox, Loading, format_time},
};
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
    // Successful calls so far: the list's key.
    let created = Memo::new(move |count: Option<&usize>| {
        let finished = create.version().get();
        let ok = create.value().with_untracked(|v| matches!(v, Some(Ok(_))));
        count.copied().unwrap_or_default() + usize::from(finished > 0 && ok)
    });
    let changed = move || (created.get(), successes(save), successes(remove));
    let notes = Resource::new(changed, |_| list_notes());
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
            {move || loaded_empty().then(|| view! {
                <p class="muted" id="no-notes">"No notes yet. Write the first one."</p>
            })}
            <ul class="notes" id="notes">
                <For each=move || list.get() key=row_key let:note>
                    <NoteItem note save remove reload=retry/>
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
}

#[component]
fn NoteItem(note: Note, save: Save, remove: Remove, reload: Callback<()>) -> impl IntoView {
    let editing = RwSignal::new(false);
    // `Either`s and `Option`s rather than `<Show>`s: a fallback is an
    // `AnyView`, and each costs the bundle its own async hydration.
    let is_editing = Memo::new(move |_| editing.get());
    let hide_error = RwSignal::new(false);
    let (saved_title, saved_body) = (note.title.clone(), note.body.clone());
    let title = RwSignal::new(note.title.clone());
    let body = RwSignal::new(note.body.clone());
    let id = note.id;
    // Only calls made while this item is shown concern it: a reloaded list
    // builds new items, which must not show an old answer again.
    let (save_floor, remove_floor) =
        (save.submissions().with_untracked(Vec::len), remove.submissions().with_untracked(Vec::len));
    let saved = move || newest_answer(save, save_floor, id, |input| input.0);
    let removed = move || newest_answer(remove, remove_floor, id, |input| *input);
    let saving = move || matches!(saved(), Some(None));
    let removing = move || matches!(removed(), Some(None));
    // A saved edit closes the editor (the reloaded list shows it).
    Effect::new(move |_| {
        if matches!(saved(), Some(Some(Ok(_)))) {
            editing.set(false);
        }
    });
    let error = move || -> Option<ApiError> {
        if hide_error.get() {
            return None;
        }
        let save_error = saved().flatten().and_then(Result::err);
        save_error.or_else(|| removed().flatten().and_then(Result::err))
    };
    // Cancel puts back what is saved and forgets the last error.
    let cancel = Callback::new(move |_: ()| {
        title.set(saved_title.clone());
        body.set(saved_body.clone());
        hide_error.set(true);
        editing.set(false);
    });
    let mine = note.mine;
    let author = if mine { "you".to_string() } else { note.author_account_id.to_string() };

    view! {
        <li class="card note" data-id=note.id.to_string() data-mine=note.mine.to_string()>
            {move || if is_editing.get() {
                Either::Left(view! {
                    <input class="note-title-input" prop:value=move || title.get()
                        on:input=move |ev| title.set(event_target_value(&ev))/>
                    <textarea class="note-body-input" rows="3" prop:value=move || body.get()
                        on:input=move |ev| body.set(event_target_value(&ev))></textarea>
                })
            } else {
                Either::Right(view! {
                    <h2 class="note-title">{move || title.get()}</h2>
                    <p class="note-body">{move || body.get()}</p>
                })
            }}
            <p class="muted note-meta">{format!("by {author} · {}", format_time(note.updated_at))}</p>
            <IssueEvents issue_key=note.issue_key.clone() events=note.issue_events.clone()/>
            <ShareBox id/>
            {mine.then(|| view! { <LinkBox id current=note.issue_key.clone() linked=reload/> })}
            {mine.then(|| view! {
                <div class="note-actions">
                    {move || if is_editing.get() {
                        Either::Left(view! {
                            <button class="button note-save" disabled=saving
                                on:click=move |_| {
                                    hide_error.set(false);
                                    save.dispatch((id, title.get_untracked(), body.get_untracked()));
                                }>
                                {move || if saving() { "Saving…" } else { "Save" }}
                            </button>
                            <button class="button subtle note-cancel" on:click=move |_| cancel.run(())>
                                "Cancel"
                            </button>
                        })
                    } else {
                        Either::Right(view! {
                            <button class="button subtle note-edit" on:click=move |_| editing.set(true)>"Edit"</button>
                            <button class="button danger note-delete" disabled=removing
                                on:click=move |_| { hide_error.set(false); remove.dispatch(id); }>"Delete"</button>
                        })
                    }}
                </div>
            })}
            {move || error().map(|error| view! { <ErrorBox error/> })}
        </li>
    }
}

/// A row is rebuilt when its note changed, was linked or got new events.
fn row_key(note: &Note) -> (i64, ids::UnixTime, Option<String>, usize) {
    (note.id, note.updated_at, note.issue_key.clone(), note.issue_events.len())
}

/// How many calls of `action` succeeded.
fn successes<I, T>(action: MultiAction<I, Outcome<T>>) -> usize
where
    I: Send + Sync + 'static,
    T: Send + Sync + 'static,
{
    action
        .submissions()
        .with(|calls| calls.iter().filter(|c| c.value().with(|v| matches!(v, Some((_, Ok(_)))))).count())
}

/// The newest call of `action` for note `id` after the first `floor` calls:
/// `None` if there is none, `Some(None)` while it is out, else its answer.
fn newest_answer<I, T>(
    action: MultiAction<I, Outcome<T>>,
    floor: usize,
    id: i64,
    id_of: fn(&I) -> i64,
) -> Option<Option<Result<T, ApiError>>>
where
    I: Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    action.submissions().with(|calls| {
        calls.iter().skip(floor).rev().find_map(|call| {
            if call.pending().get() {
                return call.input().with(|input| input.as_ref().map(id_of)).filter(|&i| i == id).map(|_| None);
            }
            call.value().with(|v| v.as_ref().filter(|(for_id, _)| *for_id == id).map(|(_, r)| Some(r.clone())))
        })
    })
}
