//! The install status of the caller's site, for site administrators only
//! (checked on the server against the host, not just hidden by it).

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::backend::{ApiFuture, Caller};
use super::{client::SessionClient, codec::JsonAnswer, error::ApiError, types::InstallStatus};

/// What the server implements for this function (in `server/src/api/admin.rs`).
#[cfg(feature = "ssr")]
pub trait AdminBackend {
    fn install_status<'a>(&'a self, caller: &'a Caller) -> ApiFuture<'a, InstallStatus>;
}

/// The server's implementation, as the request's context holds it.
#[cfg(feature = "ssr")]
pub type SharedAdminBackend = std::sync::Arc<dyn AdminBackend + Send + Sync>;

#[server(endpoint = "admin/install_status", client = SessionClient, output = JsonAnswer)]
pub async fn get_install_status() -> Result<InstallStatus, ApiError> {
    super::backend::serve(|backend: &SharedAdminBackend, caller| backend.install_status(caller)).await
}
