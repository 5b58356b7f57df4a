//! Notes: tenant-scoped by the caller's tenant, authored by the caller's
//! accountId; only the author may change or delete a note.

use app::api::{
    backend::{ApiFuture, Caller},
    error::ApiError,
    types::{MAX_NOTE_BODY, MAX_NOTE_TITLE, Note},
};
use ids::{AccountId, TenantId};

use super::{
    activity::{entry, is_issue_key},
    unavailable, verified_installation,
};
use crate::{
    state::AppState,
    store::{
        activity,
        notes::{self, NewNote, NoteRow},
    },
};

/// How many of a linked issue's events a note shows.
const EVENTS_PER_NOTE: i64 = 5;

async fn list(state: &AppState, caller: &Caller) -> Result<Vec<Note>, ApiError> {
    let installation = verified_installation(caller)?;
    let tenant = &installation.tenant_id;
    let rows = notes::list(&state.db, tenant).await.map_err(unavailable)?;
    let mut list = Vec::with_capacity(rows.len());
    for row in rows {
        let mut note = to_note(row, caller);
        if let Some(key) = &note.issue_key {
            let entity = format!("issue:{key}");
            let events = activity::for_entity(&state.db, tenant, &entity, EVENTS_PER_NOTE).await;
            note.issue_events = events.map_err(unavailable)?.into_iter().map(entry).collect();
        }
        list.push(note);
    }
    Ok(list)
}

/// Links the caller's note to an issue, or unlinks it with an empty key.
async fn link(state: &AppState, caller: &Caller, id: i64, issue_key: String) -> Result<Note, ApiError> {
    let author = author(caller)?;
    let key = Some(issue_key.trim()).filter(|k| !k.is_empty());
    if key.is_some_and(|k| !is_issue_key(k)) {
        return Err(ApiError::Invalid("Link to an issue key such as ACME-12.".into()));
    }
    let installation = verified_installation(caller)?;
    let tenant = &installation.tenant_id;
    match notes::link(&state.db, tenant, author, id, key).await.map_err(unavailable)? {
        Some(row) => Ok(to_note(row, caller)),
        None => Err(not_yours(state, tenant, id).await),
    }
}

async fn create(state: &AppState, caller: &Caller, title: String, body: String) -> Result<Note, ApiError> {
    let author = author(caller)?;
    let (title, body) = validate(title, body)?;
    let installation = verified_installation(caller)?;
    let tenant = &installation.tenant_id;
    let new = NewNote { tenant_id: tenant, author, title: &title, body: &body, now: state.clock.now() };
    let quota = state.config.shares.notes_per_site;
    match notes::insert(&state.db, &new, quota).await.map_err(unavailable)? {
        Some(row) => Ok(to_note(row, caller)),
        None => Err(ApiError::Invalid(format!("This site has reached its limit of {quota} notes. Delete some first."))),
    }
}

async fn update(state: &AppState, caller: &Caller, id: i64, title: String, body: String) -> Result<Note, ApiError> {
    let author = author(caller)?;
    let (title, body) = validate(title, body)?;
    let installation = verified_installation(caller)?;
    let tenant = &installation.tenant_id;
    match notes::update(&state.db, tenant, author, id, &title, &body, state.clock.now()).await.map_err(unavailable)? {
        Some(row) => Ok(to_note(row, caller)),
        None => Err(not_yours(state, tenant, id).await),
    }
}

async fn delete(state: &AppState, caller: &Caller, id: i64) -> Result<(), ApiError> {
    let author = author(caller)?;
    let installation = verified_installation(caller)?;
    let tenant = &installation.tenant_id;
    if notes::delete(&state.db, tenant, author, id).await.map_err(unavailable)? {
        Ok(())
    } else {
        Err(not_yours(state, tenant, id).await)
    }
}

/// Anonymous users read; writing needs an accountId to be the author.
fn author(caller: &Caller) -> Result<&AccountId, ApiError> {
    caller.account_id.as_ref().ok_or(ApiError::Forbidden)
}

/// 403 when the note exists on this site but is someone else's, 404 when
/// it does not exist here (another site's note id reveals nothing).
async fn not_yours(state: &AppState, tenant: &TenantId, id: i64) -> ApiError {
    match notes::find(&state.db, tenant, id).await {
        Ok(Some(_)) => ApiError::Forbidden,
        Ok(None) => ApiError::NotFound,
        Err(e) => unavailable(e),
    }
}

fn validate(title: String, body: String) -> Result<(String, String), ApiError> {
    let title = title.trim().to_string();
    if title.is_empty() {
        return Err(ApiError::Invalid("A note needs a title.".into()));
    }
    if title.chars().count() > MAX_NOTE_TITLE {
        return Err(ApiError::Invalid(format!("A title has at most {MAX_NOTE_TITLE} characters.")));
    }
    if body.chars().count() > MAX_NOTE_BODY {
        return Err(ApiError::Invalid(format!("A note has at most {MAX_NOTE_BODY} characters.")));
    }
    Ok((title, body))
}

fn to_note(row: NoteRow, caller: &Caller) -> Note {
    Note {
        mine: caller.account_id.as_ref() == Some(&row.author_account_id),
        id: row.id,
        title: row.title,
        body: row.body,
        author_account_id: row.author_account_id,
        created_at: row.created_at,
        updated_at: row.updated_at,
        issue_key: row.issue_key,
        issue_events: Vec::new(),
    }
}

/// `app::api::notes`'s functions.
impl app::api::notes::NotesBackend for super::AppBackend {
    fn list_notes<'a>(&'a self, caller: &'a Caller) -> ApiFuture<'a, Vec<Note>> {
        Box::pin(list(&self.state, caller))
    }
    fn create_note<'a>(&'a self, caller: &'a Caller, title: String, body: String) -> ApiFuture<'a, Note> {
        Box::pin(create(&self.state, caller, title, body))
    }
    fn update_note<'a>(&'a self, caller: &'a Caller, id: i64, title: String, body: String) -> ApiFuture<'a, Note> {
        Box::pin(update(&self.state, caller, id, title, body))
    }
    fn delete_note<'a>(&'a self, caller: &'a Caller, id: i64) -> ApiFuture<'a, ()> {
        Box::pin(delete(&self.state, caller, id))
    }
    fn link_note<'a>(&'a self, caller: &'a Caller, id: i64, issue_key: String) -> ApiFuture<'a, Note> {
        Box::pin(link(&self.state, caller, id, issue_key))
    }
}
