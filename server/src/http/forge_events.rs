//! Forge's deliveries to the app's remote endpoints: lifecycle events
//! (`avi:forge:installed:app`, `avi:forge:upgraded:app`), the `preUninstall`
//! hook and the hourly scheduled trigger. The proof has verified the FIT and
//! bound it to this route's module; `lifecycle::forge_event` decides and
//! writes in one transaction. Answers are quick (Forge waits 5 s): the call
//! to the product that shows the system token works runs after the answer.

use axum::{extract::State, http::StatusCode};

use super::proof::{ForgeEventProof, allowed_site_url, learn_from};
use crate::{
    connect::forge_event::{ForgeDecision, ForgeEvent},
    error::{Error, Result},
    lifecycle::forge_event::{ForgeDelivery, apply_forge_event},
    lifecycle_hooks::TenantEvent,
    outbound::forge_api::health_path,
    state::AppState,
    store::{Tenant, forge_tokens},
};

pub(crate) async fn forge_event(State(state): State<AppState>, proof: ForgeEventProof) -> Result<StatusCode> {
    let fit = &proof.delivery.fit;
    let site_url = allowed_site_url(&state, fit);
    if proof.event == ForgeEvent::Installed && fit.site_url.is_some() && site_url.is_none() {
        tracing::warn!(installation_id = %fit.installation_id, "Forge install for a site outside the host allowlist");
        return Err(Error::Forbidden);
    }
    let delivery = ForgeDelivery { event: proof.event, fit, site_url: site_url.as_ref(), now: state.clock.now() };
    let applied = apply_forge_event(&state.db, &delivery).await?;
    tracing::info!(event = proof.event.as_str(), installation_id = %fit.installation_id,
        tenant_id = ?applied.tenant.as_ref().map(|t| &t.tenant_id), decision = ?applied.decision, "Forge event");
    if let ForgeDecision::Refuse(reason) = applied.decision {
        return Err(Error::Unauthorized(reason));
    }
    let Some(tenant) = applied.tenant else { return Ok(StatusCode::NO_CONTENT) };
    if let Some(change) = applied.change {
        let (tenant_id, base_url) = (tenant.tenant_id.clone(), tenant.site.base_url.clone());
        state.hooks.fire(TenantEvent { change, tenant_id, base_url });
    }
    if matches!(applied.decision, ForgeDecision::Uninstall | ForgeDecision::ConfirmUninstall) {
        state.system_tokens.forget(&tenant.tenant_id);
    }
    if tenant.is_active() {
        learn_from(&state, &tenant, fit, proof.delivery.system_token()).await;
    }
    // Whether the token works is news after a new installation, and whenever an
    // installed event or the hourly trigger brings one.
    let new_installation = matches!(applied.decision, ForgeDecision::Create | ForgeDecision::Join);
    let brings_token =
        proof.delivery.system_token.is_some() && matches!(proof.event, ForgeEvent::Installed | ForgeEvent::Hourly);
    if tenant.is_active() && (new_installation || brings_token) {
        check_product_api_later(&state, tenant);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Calls the product as the app with the newest system token, after the
/// answer, and records how it went for the console.
fn check_product_api_later(state: &AppState, tenant: Tenant) {
    let state = state.clone();
    tokio::spawn(async move {
        let answer = state.forge_api.get_as_app(&state.db, &state.keyring, &tenant, health_path(&tenant)).await;
        let outcome = match &answer {
            Ok(_) => "reachable as the app".to_string(),
            Err(e) => e.to_string(),
        };
        tracing::info!(tenant_id = %tenant.tenant_id, outcome = %outcome, "Forge product API check");
        let now = state.clock.now();
        if let Err(e) = forge_tokens::record_api_check(&state.db, &tenant.tenant_id, now, &outcome).await {
            tracing::warn!(tenant_id = %tenant.tenant_id, error = %e, "could not record the API check");
        }
    });
}
