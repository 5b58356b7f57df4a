//! The installation a token names, looked up to find the key that then
//! verifies it (threat I-12: the unverified `iss` only selects a key).

use std::sync::Arc;

use app::api::backend::{Caller, CallerVia, License};
use axum::extract::Request;
use ids::{AccountId, ClientKey, TenantId, UnixTime};

use crate::{
    api::VerifiedTenant,
    connect::{
        claims::IssuerOnly,
        license::{self, Recorded, Said},
        token::{RawToken, TokenError},
    },
    error::{Error, Result},
    secrets::SharedSecret,
    state::AppState,
    store::{Tenant, installations},
};

/// The tenant `tenant_id` names, for verifying an API call (from the
/// short-lived cache, `installations::find_recent`); an unknown one is
/// refused like a bad token, a database that cannot answer is a 503
/// (retrying may work).
pub(super) async fn tenant(state: &AppState, tenant_id: &TenantId) -> Result<Tenant> {
    let found = installations::find_recent(&state.db, tenant_id).await.map_err(lookup_failed)?;
    found.ok_or_else(|| TokenError::UnknownIssuer.into())
}

/// The Connect tenant of `client_key`, for verifying a page load, a context
/// JWT or a webhook (also from the short-lived cache).
async fn installation(state: &AppState, client_key: &ClientKey) -> Result<Tenant> {
    if let Some(cached) = installations::cached_by_client_key(&state.db, client_key) {
        return Ok(cached);
    }
    super::over_share::before_costly_work()?;
    let found = installations::find_recent_by_client_key(&state.db, client_key).await.map_err(lookup_failed)?;
    found.ok_or_else(|| TokenError::UnknownIssuer.into())
}

/// The installation of `client_key` as the database holds it now, for a
/// lifecycle callback, which must never be judged on a copy.
pub(super) async fn stored_installation(state: &AppState, client_key: &ClientKey) -> Result<Option<Tenant>> {
    installations::find_by_client_key(&state.db, client_key).await.map_err(lookup_failed)
}

fn lookup_failed(e: Error) -> Error {
    Error::Unavailable(format!("installation lookup: {e}"))
}

/// The installation named by the token's (still unverified) `iss`.
pub(super) async fn issuer_installation(state: &AppState, token: RawToken<'_>) -> Result<Tenant> {
    let issuer: IssuerOnly = token.unverified_claims()?;
    installation(state, &issuer.iss).await
}

/// The tenant's shared secret; one that cannot be opened (or a tenant born
/// on Forge, which has none) verifies nothing.
pub(super) fn shared_secret(state: &AppState, installation: &Tenant) -> Result<SharedSecret> {
    state.open_secret(installation).map_err(|_| TokenError::UnknownIssuer.into())
}

/// Hands the request what its proof verified: the caller, and the
/// installation the server functions then read instead of looking it up.
pub(super) fn admit(request: &mut Request, caller: Caller, installation: Tenant) {
    request.extensions_mut().insert(caller);
    request.extensions_mut().insert(VerifiedTenant(Arc::new(installation)));
}

pub(super) fn caller(installation: &Tenant, account_id: Option<AccountId>, via: CallerVia) -> Caller {
    Caller {
        tenant_id: installation.tenant_id.clone(),
        account_id,
        install_generation: installation.install_generation,
        via,
        forge_module: None,
        license: License::Unchecked,
    }
}

/// The caller's licence (`connect::license`), from what this request's proof
/// `said` of it (`None`: nothing) or else the tenant's record, which keeps
/// what was said when it is news. Failing to keep it does not fail the call.
pub(crate) async fn caller_license(state: &AppState, tenant: &Tenant, said: Option<Said>) -> License {
    // The descriptor's word, which `APP_LICENSING` or the template set.
    let licensing = state.descriptor.licensing();
    let recorded = Recorded { license: tenant.license, at: tenant.license_said_at };
    if let (Some(news), Some(said)) = (license::to_record(licensing, said, recorded), said)
        && let Err(e) = record_license(state, &tenant.tenant_id, news, said.at).await
    {
        tracing::warn!(tenant_id = %tenant.tenant_id, error = %e, "could not record the site's licence");
    }
    license::judge(licensing, said.map(|s| s.active), tenant.license)
}

async fn record_license(state: &AppState, tenant_id: &TenantId, news: License, said_at: UnixTime) -> Result<()> {
    let Some(text) = license::stored_text(news) else { return Ok(()) };
    let mut tx = state.db.begin_write().await?;
    installations::record_license(&mut tx, tenant_id, text, said_at).await?;
    tx.commit().await?;
    tracing::info!(%tenant_id, license = text, "the site's licence changed");
    Ok(())
}
