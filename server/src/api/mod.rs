//! The server side of the app's server functions: `app`'s [`Backend`]
//! implemented on the database and the host client. Every method starts
//! from the verified [`Caller`]; the tenant is never taken from arguments.

mod activity;
mod admin;
mod identity;
mod notes;
mod session;

use app::api::{
    backend::{ApiFuture, Backend, Caller},
    error::ApiError,
    types::{ActivityEntry, Identity, InstallStatus, Note, SessionGrant, SharedNote},
};

use crate::{
    error::Error,
    state::AppState,
    store::{Installation, installations},
    tenant_id::TenantId,
};

pub(crate) struct AppBackend {
    state: AppState,
}

impl AppBackend {
    pub(crate) fn new(state: AppState) -> Self {
        Self { state }
    }
}

impl Backend for AppBackend {
    fn identity<'a>(&'a self, caller: &'a Caller) -> ApiFuture<'a, Identity> {
        Box::pin(identity::identity(&self.state, caller))
    }
    fn display_name<'a>(&'a self, caller: &'a Caller) -> ApiFuture<'a, Option<String>> {
        Box::pin(identity::display_name(&self.state, caller))
    }
    fn list_notes<'a>(&'a self, caller: &'a Caller) -> ApiFuture<'a, Vec<Note>> {
        Box::pin(notes::list(&self.state, caller))
    }
    fn create_note<'a>(&'a self, caller: &'a Caller, title: String, body: String) -> ApiFuture<'a, Note> {
        Box::pin(notes::create(&self.state, caller, title, body))
    }
    fn update_note<'a>(&'a self, caller: &'a Caller, id: i64, title: String, body: String) -> ApiFuture<'a, Note> {
        Box::pin(notes::update(&self.state, caller, id, title, body))
    }
    fn delete_note<'a>(&'a self, caller: &'a Caller, id: i64) -> ApiFuture<'a, ()> {
        Box::pin(notes::delete(&self.state, caller, id))
    }
    fn link_note<'a>(&'a self, caller: &'a Caller, id: i64, issue_key: String) -> ApiFuture<'a, Note> {
        Box::pin(notes::link(&self.state, caller, id, issue_key))
    }
    fn install_status<'a>(&'a self, caller: &'a Caller) -> ApiFuture<'a, InstallStatus> {
        Box::pin(admin::install_status(&self.state, caller))
    }
    fn renew_session<'a>(&'a self, caller: &'a Caller) -> ApiFuture<'a, SessionGrant> {
        Box::pin(session::renew(&self.state, caller))
    }
    fn list_activity<'a>(&'a self, caller: &'a Caller) -> ApiFuture<'a, Vec<ActivityEntry>> {
        Box::pin(activity::list(&self.state, caller))
    }
    fn share_note<'a>(&'a self, caller: &'a Caller, id: i64, target: String) -> ApiFuture<'a, SharedNote> {
        Box::pin(activity::share(&self.state, caller, id, target))
    }
}

/// The caller's installation, which must still be active (read as the
/// caller's proof was: from the short-lived cache).
async fn active_installation(state: &AppState, caller: &Caller) -> Result<Installation, ApiError> {
    let tenant_id = TenantId::from_trusted(caller.tenant_id.as_str());
    match installations::find_recent(&state.db, &tenant_id).await.map_err(unavailable)? {
        Some(installation) if installation.is_active() => Ok(installation),
        _ => Err(ApiError::Unauthorized),
    }
}

/// Logs the detail; the browser only learns to retry.
fn unavailable(error: Error) -> ApiError {
    tracing::error!(error = %error, "server function failed");
    ApiError::Unavailable
}
