//! Forge product events (`avi:jira:created:issue`, `avi:confluence:created:page`,
//! …) delivered to the app's remote by its `product-events` trigger: the
//! proof has verified the FIT of that module; the event is persisted in the
//! same durable queue as Connect's webhooks, under Connect's name, so the
//! same handlers and the Activity view take it, then answered at once
//! (Forge waits 5 s and retries anything else). A retry, which differs only
//! by its `retryContext`, inserts nothing. An event no handler takes (a type
//! the app never heard of, its own change, a comment's edit with no handler
//! for edits) is acknowledged and logged, since Forge would retry a 4xx.

use axum::{extract::State, http::StatusCode};
use serde_json::Value;

use super::proof::{ForgeProductEventProof, caller_license, learn_from};
use crate::{
    connect::{
        license::Said,
        product_events::{self, Delivery},
        signature::Signature,
        webhook::entity_key,
    },
    error::{Error, Result},
    state::AppState,
    store::{
        Tenant,
        event_log::{self, NewEvent, Outcome},
        webhook_jobs::{self, Enqueued, NewJob},
    },
};

pub(crate) async fn receive_product_event(
    State(state): State<AppState>,
    proof: ForgeProductEventProof,
) -> Result<StatusCode> {
    let fit = &proof.delivery.fit;
    let tenant =
        proof.tenant.as_ref().ok_or(Error::Unauthorized("installation never installed by a verified event"))?;
    let body: Value =
        serde_json::from_slice(&proof.body).map_err(|_| Error::BadRequest("the body is not JSON".into()))?;
    let event =
        product_events::event_of(&body).ok_or_else(|| Error::BadRequest("the body names no eventType".into()))?;
    let forge_name = event["eventType"].as_str().unwrap_or_default();
    let event = product_events::without_retry_context(event);
    let delivery_id = product_events::delivery_id(&event);
    let said = fit.license_active.map(|active| Said { active, at: fit.iat });
    let licensed = caller_license(&state, tenant, said).await.allows();
    let name = match product_events::delivery(&event, &state.descriptor.webhooks()) {
        _ if !tenant.is_active() => {
            return dropped(&state, tenant, forge_name, &delivery_id, "installation not active").await;
        }
        _ if !licensed => return dropped(&state, tenant, forge_name, &delivery_id, "no active licence").await,
        Delivery::Drop(reason) => return dropped(&state, tenant, forge_name, &delivery_id, reason).await,
        Delivery::Handle(name) => name,
    };
    let now = state.clock.now();
    learn_from(&state, tenant, fit, proof.delivery.system_token()).await;
    let payload = event.to_string();
    let entity = entity_key(&event);
    let job = NewJob {
        tenant_id: &tenant.tenant_id,
        delivery_id: &delivery_id,
        event: name,
        entity_key: entity.as_deref(),
        payload: &payload,
        now,
    };
    let queued = match webhook_jobs::enqueue(&state.db, &job, state.config.queue.tenant_backlog).await? {
        Enqueued::Full => {
            metrics::counter!("webhook_backlog_full_total").increment(1);
            return Err(Error::BacklogFull);
        }
        outcome => outcome == Enqueued::Queued,
    };
    tracing::info!(tenant_id = %tenant.tenant_id, event = forge_name, %delivery_id, queued, "Forge product event");
    if queued {
        state.webhook_wakeup.notify_one();
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Acknowledges a delivery the app will not handle, so Forge does not
/// retry it, with one line in the tenant's event log an hour at most.
async fn dropped(
    state: &AppState,
    tenant: &Tenant,
    forge_name: &str,
    delivery_id: &str,
    reason: &str,
) -> Result<StatusCode> {
    let tenant_id = &tenant.tenant_id;
    tracing::info!(%tenant_id, event = forge_name, %delivery_id, reason, "Forge product event dropped");
    let detail = format!("{forge_name} delivery {delivery_id} dropped: {reason}");
    let entry = NewEvent {
        tenant_id: &tenant.tenant_id,
        event: "product event",
        now: state.clock.now(),
        signature: Signature::ForgeInvocation,
        outcome: Outcome::Ignored,
        detail: Some(&detail),
    };
    event_log::append_dropped(&state.db, &entry).await?;
    Ok(StatusCode::NO_CONTENT)
}
