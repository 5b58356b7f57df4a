//! The install status of the caller's site, for site administrators only
//! (checked on the server against the host, not just hidden by it).

use leptos::prelude::*;

use super::{client::SessionClient, codec::JsonAnswer, error::ApiError, types::InstallStatus};

#[server(endpoint = "admin/install_status", client = SessionClient, output = JsonAnswer)]
pub async fn get_install_status() -> Result<InstallStatus, ApiError> {
    super::backend::serve(|backend, caller| backend.install_status(caller)).await
}
