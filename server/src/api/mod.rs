//! The server side of the app's server functions: each file implements its
//! resource's backend trait from `app::api` (so `AppBackend` is `app`'s
//! `Backend`) on the database and the host client. Every method starts
//! from the verified [`Caller`]; the tenant is never taken from arguments.

mod activity;
mod admin;
mod identity;
mod notes;
mod session;

use app::api::{backend::Caller, error::ApiError};

use crate::{
    error::Error,
    state::AppState,
    store::{Installation, installations},
    tenant_id::TenantId,
};

pub(crate) struct AppBackend {
    pub(super) state: AppState,
}

impl AppBackend {
    pub(crate) fn new(state: AppState) -> Self {
        Self { state }
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
