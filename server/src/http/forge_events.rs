//! Forge's deliveries to the app's remote endpoints: lifecycle events
//! (`avi:forge:installed:app`, `avi:forge:upgraded:app`), the `preUninstall`
//! hook and the hourly scheduled trigger. The proof has verified the FIT;
//! `connect::forge_event::decide` says what the delivery changes. Answers
//! are quick (Forge waits 5 s): the call to the product that shows the
//! system token works runs after the answer.

use axum::{extract::State, http::StatusCode};

use super::proof::{ForgeEventProof, learn_from};
use crate::{
    connect::{
        forge_event::{ForgeDecision, ForgeEvent, TenantView, decide},
        lifecycle::{Incoming, LifecycleEvent, Signature},
    },
    error::{Error, Result},
    outbound::forge_api::health_path,
    state::AppState,
    store::{
        Installation,
        event_log::Outcome,
        event_transaction::{EventWrite, apply_event},
        forge_join::{self, ForgeNote},
        forge_tokens, installations,
    },
};

pub(crate) async fn forge_event(State(state): State<AppState>, proof: ForgeEventProof) -> Result<StatusCode> {
    let fit = &proof.fit;
    let unavailable = |e: Error| Error::Unavailable(format!("installation lookup: {e}"));
    let by_installation =
        installations::find_by_installation_id(&state.db, &fit.installation_id).await.map_err(unavailable)?;
    let by_site = match (proof.event, &by_installation, fit.cloud_id.as_deref()) {
        (ForgeEvent::Installed, None, Some(cloud_id)) => {
            installations::find_active_by_cloud_id(&state.db, cloud_id).await.map_err(unavailable)?
        }
        _ => None,
    };
    let view = |i: &Installation| TenantView { state: i.state, active: i.is_active() };
    let decision =
        decide(proof.event, by_installation.as_ref().map(view).as_ref(), by_site.as_ref().map(view).as_ref());
    tracing::info!(event = proof.event.as_str(), installation_id = %fit.installation_id, ?decision, "Forge event");
    let Some(tenant) = by_installation.or(by_site) else {
        return match decision {
            ForgeDecision::Refuse(reason) => Err(Error::Unauthorized(reason)),
            _ => Ok(StatusCode::NO_CONTENT),
        };
    };
    apply(&state, &proof, &tenant, decision).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn apply(
    state: &AppState,
    proof: &ForgeEventProof,
    tenant: &Installation,
    decision: ForgeDecision,
) -> Result<()> {
    let fit = &proof.fit;
    let note = ForgeNote { client_key: &tenant.client_key, event: proof.event.as_str(), now: state.clock.now() };
    let token = proof.system_token.as_deref().and_then(|t| std::str::from_utf8(t.expose()).ok());
    match decision {
        ForgeDecision::Join => {
            let cloud_id = fit.cloud_id.as_deref().ok_or_else(|| Error::Internal("a join without a cloudId".into()))?;
            forge_join::join(&state.db, &note, &fit.installation_id, cloud_id).await?;
            let joined = installations::find(&state.db, &tenant.client_key).await?.unwrap_or_else(|| tenant.clone());
            learn_from(state, &joined, fit, token).await;
            check_product_api_later(state, joined);
        }
        ForgeDecision::Uninstall => {
            uninstall(state, tenant, fit.iat).await?;
            state.system_tokens.forget(&state.db, &tenant.client_key).await?;
        }
        ForgeDecision::Refresh(reason) => {
            learn_from(state, tenant, fit, token).await;
            // Only an upgrade is news: a retried `installed` and the hourly trigger change nothing.
            if proof.event == ForgeEvent::Upgraded {
                forge_join::record(&state.db, &note, Outcome::Ignored, reason).await?;
            }
            if matches!(proof.event, ForgeEvent::Installed | ForgeEvent::Hourly) {
                check_product_api_later(state, tenant.clone());
            }
        }
        ForgeDecision::Ignore(reason) => forge_join::record(&state.db, &note, Outcome::Ignored, reason).await?,
        ForgeDecision::Refuse(reason) => return Err(Error::Unauthorized(reason)),
    }
    Ok(())
}

/// `preUninstall` marks the tenant uninstalled through the one lifecycle
/// transaction, so it orders with Connect's own callbacks by `iat`.
async fn uninstall(state: &AppState, tenant: &Installation, iat: i64) -> Result<()> {
    let write = EventWrite {
        client_key: &tenant.client_key,
        base_url: &tenant.base_url,
        now: state.clock.now(),
        install: None,
    };
    let incoming = Incoming {
        event: LifecycleEvent::Uninstalled,
        signature: Signature::ForgeInvocation,
        iat,
        base_url: &tenant.base_url,
        same_secret: false,
        base_url_taken: false,
        token_fingerprint: None,
        installation_id: None,
    };
    apply_event(&state.db, incoming, &write).await.map(|_| ())
}

/// Calls the product as the app with the newest system token, after the
/// answer, and records how it went for the console.
fn check_product_api_later(state: &AppState, tenant: Installation) {
    let state = state.clone();
    tokio::spawn(async move {
        let answer = state.forge_api.get_as_app(&state.db, &state.keyring, &tenant, health_path(&tenant)).await;
        let outcome = match &answer {
            Ok(_) => "reachable as the app".to_string(),
            Err(e) => e.to_string(),
        };
        tracing::info!(client_key = %tenant.client_key, outcome = %outcome, "Forge product API check");
        let now = state.clock.now();
        if let Err(e) = forge_tokens::record_api_check(&state.db, &tenant.client_key, now, &outcome).await {
            tracing::warn!(client_key = %tenant.client_key, error = %e, "could not record the API check");
        }
    });
}
