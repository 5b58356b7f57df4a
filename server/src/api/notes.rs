//! Notes: tenant-scoped by the caller's clientKey, authored by the caller's
//! accountId; only the author may change or delete a note.

use app::api::{
    backend::Caller,
    error::ApiError,
    types::{MAX_NOTE_BODY, MAX_NOTE_TITLE, Note},
};

use super::{active_installation, unavailable};
use crate::{
    state::AppState,
    store::notes::{self, NoteRow},
};

pub(crate) async fn list(state: &AppState, caller: &Caller) -> Result<Vec<Note>, ApiError> {
    active_installation(state, caller).await?;
    let rows = notes::list(&state.db, &caller.client_key).await.map_err(unavailable)?;
    Ok(rows.into_iter().map(|row| to_note(row, caller)).collect())
}

pub(crate) async fn create(state: &AppState, caller: &Caller, title: String, body: String) -> Result<Note, ApiError> {
    let author = author(caller)?;
    let (title, body) = validate(title, body)?;
    active_installation(state, caller).await?;
    let row = notes::insert(&state.db, &caller.client_key, author, &title, &body, state.clock.now())
        .await
        .map_err(unavailable)?;
    Ok(to_note(row, caller))
}

pub(crate) async fn update(
    state: &AppState,
    caller: &Caller,
    id: i64,
    title: String,
    body: String,
) -> Result<Note, ApiError> {
    let author = author(caller)?;
    let (title, body) = validate(title, body)?;
    active_installation(state, caller).await?;
    match notes::update(&state.db, &caller.client_key, author, id, &title, &body, state.clock.now())
        .await
        .map_err(unavailable)?
    {
        Some(row) => Ok(to_note(row, caller)),
        None => Err(not_yours(state, caller, id).await),
    }
}

pub(crate) async fn delete(state: &AppState, caller: &Caller, id: i64) -> Result<(), ApiError> {
    let author = author(caller)?;
    active_installation(state, caller).await?;
    if notes::delete(&state.db, &caller.client_key, author, id).await.map_err(unavailable)? {
        Ok(())
    } else {
        Err(not_yours(state, caller, id).await)
    }
}

/// Anonymous users read; writing needs an accountId to be the author.
fn author(caller: &Caller) -> Result<&str, ApiError> {
    caller.account_id.as_deref().ok_or(ApiError::Forbidden)
}

/// 403 when the note exists on this site but is someone else's, 404 when
/// it does not exist here (another site's note id reveals nothing).
async fn not_yours(state: &AppState, caller: &Caller, id: i64) -> ApiError {
    match notes::find(&state.db, &caller.client_key, id).await {
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
        mine: caller.account_id.as_deref() == Some(row.author_account_id.as_str()),
        id: row.id,
        title: row.title,
        body: row.body,
        author_account_id: row.author_account_id,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}
