//! The site's product events, and sharing a note to the product as the user.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::backend::{ApiFuture, Caller};
use super::{
    client::SessionClient,
    codec::JsonAnswer,
    error::ApiError,
    types::{ActivityEntry, SharedNote},
};

/// What the server implements for these functions (in `server/src/api/activity.rs`).
#[cfg(feature = "ssr")]
pub trait ActivityBackend {
    fn list_activity<'a>(&'a self, caller: &'a Caller) -> ApiFuture<'a, Vec<ActivityEntry>>;
    fn share_note<'a>(&'a self, caller: &'a Caller, id: i64, target: String) -> ApiFuture<'a, SharedNote>;
}

/// The server's implementation, as the request's context holds it.
#[cfg(feature = "ssr")]
pub type SharedActivityBackend = std::sync::Arc<dyn ActivityBackend + Send + Sync>;

/// The caller's site's processed events, newest first.
#[server(endpoint = "activity/list", client = SessionClient, output = JsonAnswer)]
pub async fn list_activity() -> Result<Vec<ActivityEntry>, ApiError> {
    super::backend::serve(|backend: &SharedActivityBackend, caller| backend.list_activity(caller)).await
}

/// Posts the note as a comment, as the calling user: on a Jira issue
/// (`target` = an issue key) or a Confluence page (`target` = a page id).
#[server(endpoint = "notes/share", client = SessionClient, output = JsonAnswer)]
pub async fn share_note(id: i64, target: String) -> Result<SharedNote, ApiError> {
    super::backend::serve(move |backend: &SharedActivityBackend, caller| backend.share_note(caller, id, target)).await
}
