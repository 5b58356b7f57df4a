//! Forge product events (`avi:jira:created:issue`, `avi:confluence:created:page`,
//! …) delivered to the app's remote by its `product-events` trigger: the
//! proof has verified the FIT of that module; the event is persisted in the
//! same durable queue as Connect's webhooks, under Connect's name, so the
//! same handlers and the Activity view take it, then answered at once
//! (Forge waits 5 s and retries anything else). A retry, which differs only
//! by its `retryContext`, inserts nothing.

use axum::{extract::State, http::StatusCode};
use serde_json::Value;

use super::proof::{ForgeProductEventProof, learn_from};
use crate::{
    connect::{product_events, signature::Signature, webhook::entity_key},
    error::{Error, Result},
    state::AppState,
    store::{
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
    let Some(name) = product_events::handler_name(forge_name, &state.descriptor.webhooks()) else {
        return Err(Error::BadRequest(format!("the app subscribes to no event {forge_name}")));
    };
    let now = state.clock.now();
    let event = product_events::without_retry_context(event);
    let delivery_id = product_events::delivery_id(&event);
    if !tenant.is_active() {
        let detail = format!("{forge_name} delivery {delivery_id} dropped: installation not active");
        let entry = NewEvent {
            tenant_id: &tenant.tenant_id,
            event: "product event",
            now,
            signature: Signature::ForgeInvocation,
            outcome: Outcome::Ignored,
            detail: Some(&detail),
        };
        event_log::append_dropped(&state.db, &entry).await?;
        return Ok(StatusCode::NO_CONTENT);
    }
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
