//! The notes of the caller's site. The tenant and the author come from the
//! verified token only; arguments never name a tenant.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::backend::{ApiFuture, Caller};
use super::{client::SessionClient, codec::JsonAnswer, error::ApiError, types::Note};

/// What the server implements for these functions (in `server/src/api/notes.rs`).
#[cfg(feature = "ssr")]
pub trait NotesBackend {
    fn list_notes<'a>(&'a self, caller: &'a Caller) -> ApiFuture<'a, Vec<Note>>;
    fn create_note<'a>(&'a self, caller: &'a Caller, title: String, body: String) -> ApiFuture<'a, Note>;
    fn update_note<'a>(&'a self, caller: &'a Caller, id: i64, title: String, body: String) -> ApiFuture<'a, Note>;
    fn delete_note<'a>(&'a self, caller: &'a Caller, id: i64) -> ApiFuture<'a, ()>;
    fn link_note<'a>(&'a self, caller: &'a Caller, id: i64, issue_key: String) -> ApiFuture<'a, Note>;
}

/// The server's implementation, as the request's context holds it.
#[cfg(feature = "ssr")]
pub type SharedNotesBackend = std::sync::Arc<dyn NotesBackend + Send + Sync>;

#[server(endpoint = "notes/list", client = SessionClient, output = JsonAnswer)]
pub async fn list_notes() -> Result<Vec<Note>, ApiError> {
    super::backend::serve(|backend: &SharedNotesBackend, caller| backend.list_notes(caller)).await
}

#[server(endpoint = "notes/create", client = SessionClient, output = JsonAnswer)]
pub async fn create_note(title: String, body: String) -> Result<Note, ApiError> {
    super::backend::serve(move |backend: &SharedNotesBackend, caller| backend.create_note(caller, title, body)).await
}

#[server(endpoint = "notes/update", client = SessionClient, output = JsonAnswer)]
pub async fn update_note(id: i64, title: String, body: String) -> Result<Note, ApiError> {
    super::backend::serve(move |backend: &SharedNotesBackend, caller| backend.update_note(caller, id, title, body))
        .await
}

#[server(endpoint = "notes/delete", client = SessionClient, output = JsonAnswer)]
pub async fn delete_note(id: i64) -> Result<(), ApiError> {
    super::backend::serve(move |backend: &SharedNotesBackend, caller| backend.delete_note(caller, id)).await
}

/// Links the caller's note to a Jira issue (an empty key unlinks it).
#[server(endpoint = "notes/link", client = SessionClient, output = JsonAnswer)]
pub async fn link_note(id: i64, issue_key: String) -> Result<Note, ApiError> {
    super::backend::serve(move |backend: &SharedNotesBackend, caller| backend.link_note(caller, id, issue_key)).await
}
