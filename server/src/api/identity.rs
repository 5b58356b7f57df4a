//! Who the caller is: from the verified token and the installation row, and
//! their display name from the host's REST API.

use app::api::{backend::Caller, error::ApiError, types::Identity};

use super::{active_installation, open_secret};
use crate::{outbound::host_api, state::AppState};

pub(crate) async fn identity(state: &AppState, caller: &Caller) -> Result<Identity, ApiError> {
    let installation = active_installation(state, caller).await?;
    Ok(Identity {
        account_id: caller.account_id.clone(),
        base_url: installation.base_url.clone(),
        display_url: installation.display_url.clone(),
        product_type: installation.product_type.clone().unwrap_or_else(|| "unknown".into()),
    })
}

pub(crate) async fn display_name(state: &AppState, caller: &Caller) -> Result<Option<String>, ApiError> {
    let Some(account_id) = caller.account_id.as_deref() else { return Ok(None) };
    let installation = active_installation(state, caller).await?;
    let secret = open_secret(state, &installation)?;
    host_api::display_name(&state.host_client, &installation, &secret, account_id, state.clock.now()).await.map_err(
        |e| {
            tracing::warn!(client_key = %installation.client_key, error = %e, "display name lookup failed");
            ApiError::Unavailable
        },
    )
}
