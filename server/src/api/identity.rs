//! Who the caller is: from the verified token and the installation row, and
//! their display name from the host's REST API (as the user, under Forge).

use app::api::{
    backend::{ApiFuture, Caller, ForgeUserToken},
    error::ApiError,
    types::Identity,
};
use ids::AccountId;
use url::Url;

use super::{unavailable, verified_installation};
use crate::{
    outbound::{
        forge_api::{ForgeApiError, myself_path},
        host_api,
    },
    state::AppState,
    store::Installation,
};

/// From the installation the caller's proof verified: no lookup, no I/O.
fn identity(caller: &Caller) -> Result<Identity, ApiError> {
    let installation = verified_installation(caller)?;
    Ok(Identity {
        account_id: caller.account_id.clone(),
        base_url: installation.base_url.clone(),
        display_url: installation.display_url.clone(),
        product_type: installation.product_type.clone().unwrap_or_else(|| "unknown".into()),
    })
}

/// The user's own token when Forge sent one; else the Connect host with the
/// shared secret; else, for a tenant born on Forge, the product API as the
/// app with its system token. A site that cannot be asked is a clear error.
async fn display_name(state: &AppState, caller: &Caller) -> Result<Option<String>, ApiError> {
    let Some(account_id) = caller.account_id.as_ref() else { return Ok(None) };
    let installation = verified_installation(caller)?;
    if let Some(user) = &caller.forge_user {
        return display_name_as_user(state, &installation, user).await;
    }
    let Some(_) = installation.sealed_secret() else {
        return display_name_as_app(state, &installation, account_id).await;
    };
    let secret = state.open_secret(&installation).map_err(unavailable)?;
    let now = state.clock.now();
    host_api::display_name(&state.host_client, &installation, &secret, account_id, now).await.map_err(|e| {
        tracing::warn!(tenant_id = %installation.tenant_id, error = %e, "display name lookup failed");
        ApiError::Unavailable
    })
}

/// A tenant born on Forge asks the product API as the app.
async fn display_name_as_app(
    state: &AppState,
    installation: &Installation,
    account_id: &AccountId,
) -> Result<Option<String>, ApiError> {
    let answer = state.forge_api.display_name(&state.db, &state.keyring, installation, account_id).await;
    answer.map_err(|e| forge_refusal(installation, &e))
}

/// What the page shows when the product API cannot be asked: why, when it
/// is not a passing fault (no token yet, a host outside the allowlist).
pub(super) fn forge_refusal(installation: &Installation, error: &ForgeApiError) -> ApiError {
    tracing::warn!(tenant_id = %installation.tenant_id, error = %error, "product API call failed");
    match error {
        ForgeApiError::NoToken | ForgeApiError::NotAllowed => ApiError::SiteRefused(format!("{error}.")),
        _ => ApiError::Unavailable,
    }
}

/// Under Forge, the user's own token asks the product who they are.
async fn display_name_as_user(
    state: &AppState,
    installation: &Installation,
    user: &ForgeUserToken,
) -> Result<Option<String>, ApiError> {
    let base = Url::parse(&user.api_base_url).map_err(|_| ApiError::Unavailable)?;
    let answer = state.forge_api.get(&base, &user.token, myself_path(installation)).await.map_err(|e| {
        tracing::warn!(tenant_id = %installation.tenant_id, error = %e, "display name lookup as the user failed");
        ApiError::Unavailable
    })?;
    Ok(answer["displayName"].as_str().map(str::to_string))
}

/// `app::api::me`'s functions.
impl app::api::me::MeBackend for super::AppBackend {
    fn identity(&self, caller: &Caller) -> Result<Identity, ApiError> {
        identity(caller)
    }
    fn display_name<'a>(&'a self, caller: &'a Caller) -> ApiFuture<'a, Option<String>> {
        Box::pin(display_name(&self.state, caller))
    }
}
