//! The lifecycle callbacks' handler: a [`LifecycleProof`] in, its event
//! applied in one transaction (`store::event_transaction`), 204 out. The
//! proof has already parsed, bounded and authenticated the request.

use axum::{extract::State, http::StatusCode};

use super::proof::{LifecycleProof, VerifiedCallback};
use crate::{
    connect::{
        lifecycle::{Decision, Incoming, LifecycleEvent, Signature},
        payload::LifecyclePayload,
    },
    error::{Error, Result},
    secrets::{SealedSecret, SharedSecret, constant_time_eq},
    state::AppState,
    store::{
        event_transaction::{EventWrite, NewInstall, apply_event},
        installations::InstallFields,
    },
};

pub(crate) async fn lifecycle_callback(State(state): State<AppState>, proof: LifecycleProof) -> Result<StatusCode> {
    let Some(verified) = &proof.verified else { return Ok(StatusCode::NO_CONTENT) };
    let decision = apply(&state, &proof, verified).await?;
    tracing::info!(
        client_key = %proof.payload.client_key,
        event = proof.event.as_str(),
        signature = verified.signature.as_str(),
        ?decision,
        "lifecycle event"
    );
    match decision {
        Decision::Reject(reason) => Err(Error::Unauthorized(reason)),
        _ => Ok(StatusCode::NO_CONTENT),
    }
}

async fn apply(state: &AppState, proof: &LifecycleProof, verified: &VerifiedCallback) -> Result<Decision> {
    let payload: &LifecyclePayload = &proof.payload;
    let now = state.clock.now();
    let new_secret = payload.shared_secret.as_deref().unwrap_or_default();
    let sealed = match proof.event {
        LifecycleEvent::Installed => {
            Some(state.keyring.seal(&payload.client_key, &SharedSecret::new(new_secret.as_bytes().to_vec()))?)
        }
        _ => None,
    };
    let keyring = state.keyring.clone();
    let same_secret = move |stored: &SealedSecret, client_key: &str| {
        keyring.open(client_key, stored).is_ok_and(|old| constant_time_eq(old.expose(), new_secret.as_bytes()))
    };
    let fingerprint = verified.fingerprint.as_deref();
    let install = sealed.as_ref().map(|sealed| NewInstall {
        fields: InstallFields {
            client_key: &payload.client_key,
            base_url: &payload.base_url,
            display_url: payload.display_url.as_deref(),
            product_type: payload.product_type.as_deref(),
            description: payload.description.as_deref(),
            app_key: &payload.key,
            oauth_client_id: payload.oauth_client_id.as_deref(),
            service_entitlement_number: payload.service_entitlement_number.as_deref(),
            installation_id: forge_installation(payload, verified),
            sealed,
            signature: verified.signature.as_str(),
            now,
            iat: verified.iat,
            token_fingerprint: fingerprint,
        },
        same_secret: &same_secret,
    });
    let write = EventWrite { client_key: &payload.client_key, base_url: &payload.base_url, now, install };
    let incoming = Incoming {
        event: proof.event,
        signature: verified.signature,
        iat: verified.iat,
        base_url: &payload.base_url,
        same_secret: false,
        base_url_taken: false,
        token_fingerprint: fingerprint,
        installation_id: forge_installation(payload, verified),
    };
    apply_event(&state.db, incoming, &write).await
}

/// The Forge installation an install joins: only one that Atlassian's RS256
/// signature vouches for (threat FT-08). An unsigned legacy install naming
/// another tenant's installationId must not take its Forge calls.
fn forge_installation<'a>(payload: &'a LifecyclePayload, verified: &VerifiedCallback) -> Option<&'a str> {
    payload.installation_id.as_deref().filter(|_| verified.signature == Signature::AtlassianRs256)
}
