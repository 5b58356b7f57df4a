//! The site's product events, and sharing a note to the product as the user.

use leptos::prelude::*;

use super::{
    client::SessionClient,
    codec::JsonAnswer,
    error::ApiError,
    types::{ActivityEntry, SharedNote},
};

/// The caller's site's processed events, newest first.
#[server(endpoint = "activity/list", client = SessionClient, output = JsonAnswer)]
pub async fn list_activity() -> Result<Vec<ActivityEntry>, ApiError> {
    super::backend::serve(|backend, caller| backend.list_activity(caller)).await
}

/// Posts the note as a comment, as the calling user: on a Jira issue
/// (`target` = an issue key) or a Confluence page (`target` = a page id).
#[server(endpoint = "notes/share", client = SessionClient, output = JsonAnswer)]
pub async fn share_note(id: i64, target: String) -> Result<SharedNote, ApiError> {
    super::backend::serve(move |backend, caller| backend.share_note(caller, id, target)).await
}
