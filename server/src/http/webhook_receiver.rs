//! Receiving a verified webhook delivery: persist it in the durable queue,
//! then answer 204 at once (Atlassian expects 2xx quickly and retries
//! anything else). A retry of a delivery already queued inserts nothing. The
//! work happens afterwards, in `webhooks::worker`, on any instance.

use axum::{extract::State, http::StatusCode};

use super::proof::WebhookProof;
use crate::{
    connect::{signature::Signature, webhook::entity_key},
    error::{Error, Result},
    state::AppState,
    store::{
        event_log::{self, NewEvent, Outcome},
        webhook_jobs::{self, Enqueued, NewJob},
    },
};

pub(crate) async fn receive(State(state): State<AppState>, proof: WebhookProof) -> Result<StatusCode> {
    let now = state.clock.now();
    if let Some(reason) = proof.dropped {
        tracing::info!(tenant_id = %proof.tenant_id, event = %proof.event, delivery_id = %proof.delivery_id, reason,
            "webhook dropped");
        let entry = NewEvent {
            tenant_id: &proof.tenant_id,
            event: "webhook",
            now,
            signature: Signature::TenantHs256,
            outcome: Outcome::Ignored,
            detail: Some(&format!("{} delivery {} dropped: {reason}", proof.event, proof.delivery_id)),
        };
        event_log::append_dropped(&state.db, &entry).await?;
        return Ok(StatusCode::NO_CONTENT);
    }
    let payload: serde_json::Value =
        serde_json::from_slice(&proof.body).map_err(|_| Error::BadRequest("the body is not JSON".into()))?;
    let entity = entity_key(&payload);
    let job = NewJob {
        tenant_id: &proof.tenant_id,
        delivery_id: &proof.delivery_id,
        event: &proof.event,
        entity_key: entity.as_deref(),
        payload: std::str::from_utf8(&proof.body).map_err(|_| Error::BadRequest("the body is not UTF-8".into()))?,
        now,
    };
    let queued = match webhook_jobs::enqueue(&state.db, &job, state.config.queue.tenant_backlog).await? {
        Enqueued::Full => {
            metrics::counter!("webhook_backlog_full_total").increment(1);
            return Err(Error::BacklogFull);
        }
        outcome => outcome == Enqueued::Queued,
    };
    tracing::info!(tenant_id = %proof.tenant_id, event = %proof.event, delivery_id = %proof.delivery_id, queued,
        "webhook delivery");
    if queued {
        state.webhook_wakeup.notify_one();
    }
    Ok(StatusCode::NO_CONTENT)
}
