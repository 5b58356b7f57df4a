//! Who the caller is: from the verified token and the installation row, and
//! their display name from the host's REST API (as the user, under Forge).

use app::api::{
    backend::{Caller, ForgeUserToken},
    error::ApiError,
    types::Identity,
};
use url::Url;

use super::{active_installation, open_secret};
use crate::{
    outbound::{forge_api::myself_path, host_api},
    state::AppState,
    store::Installation,
};

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
    if let Some(user) = &caller.forge_user {
        return display_name_as_user(state, &installation, user).await;
    }
    let secret = open_secret(state, &installation)?;
    host_api::display_name(&state.host_client, &installation, &secret, account_id, state.clock.now()).await.map_err(
        |e| {
            tracing::warn!(client_key = %installation.client_key, error = %e, "display name lookup failed");
            ApiError::Unavailable
        },
    )
}

/// Under Forge, the user's own token asks the product who they are.
async fn display_name_as_user(
    state: &AppState,
    installation: &Installation,
    user: &ForgeUserToken,
) -> Result<Option<String>, ApiError> {
    let base = Url::parse(&user.api_base_url).map_err(|_| ApiError::Unavailable)?;
    let answer = state.forge_api.get(&base, &user.token, myself_path(installation)).await.map_err(|e| {
        tracing::warn!(client_key = %installation.client_key, error = %e, "display name lookup as the user failed");
        ApiError::Unavailable
    })?;
    Ok(answer["displayName"].as_str().map(str::to_string))
}
