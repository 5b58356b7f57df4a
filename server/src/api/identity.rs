//! Who the caller is: from the verified token and the installation row, and
//! their display name from the host's REST API.

use app::api::{
    backend::{ApiFuture, Caller},
    error::ApiError,
    types::Identity,
};
use reqwest::Method;

use super::{rate_limited, verified_installation};
use crate::{
    outbound::{
        forge_api::ForgeApiError,
        host_api,
        site_client::{Acting, SiteCall, SiteError},
    },
    state::AppState,
    store::Tenant,
    tenant::Product,
};

/// From the installation the caller's proof verified: no lookup, no I/O.
fn identity(caller: &Caller) -> Result<Identity, ApiError> {
    let installation = verified_installation(caller)?;
    Ok(Identity {
        account_id: caller.account_id.clone(),
        base_url: installation.site.base_url.clone(),
        display_url: installation.site.display_url.clone(),
        product_type: product_name(&installation),
    })
}

/// Asked as the app through the site client: the Connect host with the
/// shared secret, or, for a tenant born on Forge, the product API with its
/// system token. A site that cannot be asked is a clear error.
async fn display_name(state: &AppState, caller: &Caller) -> Result<Option<String>, ApiError> {
    let Some(account_id) = caller.account_id.as_ref() else { return Ok(None) };
    let installation = verified_installation(caller)?;
    let path = if installation.is_confluence() { "/rest/api/user" } else { "/rest/api/3/user" };
    let call = SiteCall { method: Method::GET, path, query: &[("accountId", account_id.as_str())], body: None };
    let sent = state.site().send(&installation, Acting::App, call).await;
    if let Some(limit) = sent.as_ref().err().and_then(SiteError::rate_limit) {
        return Err(rate_limited(limit));
    }
    match sent {
        Ok(user) => Ok(host_api::display_name_of(&user)),
        Err(SiteError::Forge(e)) => Err(forge_refusal(&installation, &e)),
        Err(e) => {
            tracing::warn!(tenant_id = %installation.tenant_id, error = %e, "display name lookup failed");
            Err(ApiError::Unavailable)
        }
    }
}

/// The product as the page names it.
pub(super) fn product_name(tenant: &Tenant) -> String {
    tenant.site.product.map_or("unknown", Product::as_str).to_string()
}

/// What the page shows when the product API cannot be asked: why, when it
/// is not a passing fault (no token yet, a host outside the allowlist).
pub(super) fn forge_refusal(installation: &Tenant, error: &ForgeApiError) -> ApiError {
    tracing::warn!(tenant_id = %installation.tenant_id, error = %error, "product API call failed");
    match error {
        ForgeApiError::NoToken | ForgeApiError::NotAllowed | ForgeApiError::NoImpersonation(_) => {
            ApiError::SiteRefused(format!("{error}."))
        }
        ForgeApiError::RateLimited(limit) => rate_limited(limit),
        _ => ApiError::Unavailable,
    }
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
