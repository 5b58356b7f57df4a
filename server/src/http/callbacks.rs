//! The lifecycle callbacks' handler: a [`LifecycleProof`] in, its event
//! applied by the lifecycle service (`lifecycle::connect_event`), 204 out.
//! The proof has already parsed, bounded and authenticated the request.

use axum::{extract::State, http::StatusCode};

use super::proof::LifecycleProof;
use crate::{
    connect::lifecycle::Decision,
    error::{Error, Result},
    lifecycle::connect_event,
    state::AppState,
};

pub(crate) async fn lifecycle_callback(State(state): State<AppState>, proof: LifecycleProof) -> Result<StatusCode> {
    let Some(verified) = &proof.verified else { return Ok(StatusCode::NO_CONTENT) };
    let applied = connect_event::apply(&state, proof.event, &proof.payload, verified).await?;
    let decision = applied.decision;
    tracing::info!(
        client_key = %proof.payload.client_key,
        event = proof.event.as_str(),
        signature = verified.signature.as_str(),
        ?decision,
        "lifecycle event"
    );
    for change in applied.changes {
        state.hooks.fire(change);
    }
    match decision {
        Decision::Reject(reason) => Err(Error::Unauthorized(reason)),
        _ => Ok(StatusCode::NO_CONTENT),
    }
}
