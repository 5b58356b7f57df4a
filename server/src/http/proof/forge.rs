//! Forge proofs: a Forge Invocation Token verified under Forge's JWKS for
//! this app (`FORGE_APP_ID`), and [`ForgeEventProof`], what Forge's
//! lifecycle events and scheduled triggers carry. The tenant of an event is
//! looked up by its handler, since `installed` may name an installation that
//! is joined only by that event.

use std::sync::Arc;

use axum::{extract::Request, http::HeaderMap};

use super::{Proof, ProofKind, header_token};
use crate::{
    connect::{
        forge_event::ForgeEvent,
        forge_token::{VerifiedFit, verify_fit},
        token::{RawToken, TokenError},
    },
    error::{Error, Result},
    outbound::{forge_keys::ForgeKeyError, system_tokens::MAX_TOKEN_BYTES},
    secrets::SharedSecret,
    state::AppState,
    store::{Installation, installations},
};

/// Where Forge puts the app's system token, when the endpoint asks for one.
const SYSTEM_TOKEN_HEADER: &str = "x-forge-oauth-system";
/// Where Forge puts the user's token, when a user is in session.
const USER_TOKEN_HEADER: &str = "x-forge-oauth-user";

/// A verified Forge lifecycle event or scheduled trigger.
#[derive(Clone)]
pub(crate) struct ForgeEventProof {
    pub event: ForgeEvent,
    pub fit: VerifiedFit,
    pub system_token: Option<Arc<SharedSecret>>,
}

impl Proof for ForgeEventProof {
    const KIND: ProofKind = ProofKind::ForgeEvent;
    async fn verify(state: &AppState, request: &mut Request) -> Result<Self> {
        let event = ForgeEvent::from_path(request.uri().path()).ok_or(Error::NotFound)?;
        let headers = request.headers();
        let token = header_token(headers, request.uri().query())?;
        let fit = verified_fit(state, token).await?;
        let system_token = system_token(headers).map(|t| Arc::new(SharedSecret::new(t.as_bytes().to_vec())));
        Ok(Self { event, fit, system_token })
    }
}

/// Verifies `token` as a FIT, when Forge support is on. Only RS256 under a
/// key of the configured JWKS; a JWKS that cannot be fetched is a 503.
pub(super) async fn verified_fit(state: &AppState, token: RawToken<'_>) -> Result<VerifiedFit> {
    let app_id = state.config.forge_app_id.as_deref().ok_or(TokenError::WrongAlgorithm)?;
    let header = token.header()?;
    if header.alg != "RS256" {
        return Err(TokenError::WrongAlgorithm.into());
    }
    let key = state.forge_keys.get(header.kid.as_deref().ok_or(TokenError::BadKeyId)?).await.map_err(|e| match e {
        ForgeKeyError::UnknownKid => TokenError::BadKeyId.into(),
        ForgeKeyError::Unavailable => Error::Unavailable("Forge JWKS".into()),
    })?;
    Ok(verify_fit(token, &key, app_id, state.clock.now())?)
}

/// The system token a call carries, if it looks like one.
pub(super) fn system_token(headers: &HeaderMap) -> Option<&str> {
    token_header(headers, SYSTEM_TOKEN_HEADER)
}

/// The user token a call carries, if it looks like one.
pub(super) fn user_token(headers: &HeaderMap) -> Option<&str> {
    token_header(headers, USER_TOKEN_HEADER)
}

fn token_header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let token = headers.get(name)?.to_str().ok()?;
    (!token.is_empty() && token.len() <= MAX_TOKEN_BYTES).then_some(token)
}

/// What a verified FIT teaches about its (already joined) tenant: the newest
/// system token, and the site's cloudId the first time one is named. Failing
/// to keep either does not fail the call.
pub(crate) async fn learn_from(state: &AppState, installation: &Installation, fit: &VerifiedFit, token: Option<&str>) {
    let now = state.clock.now();
    if let Some(token) = token {
        let kept = state.system_tokens.remember(&state.db, &state.keyring, installation, fit, token, now);
        if let Err(e) = kept.await {
            tracing::warn!(client_key = %installation.client_key, error = %e, "could not keep the Forge system token");
        }
    }
    let Some(cloud_id) = fit.cloud_id.as_deref() else { return };
    match installation.cloud_id.as_deref() {
        Some(known) if known == cloud_id => {}
        Some(_) => tracing::warn!(client_key = %installation.client_key, "a FIT names another cloudId; kept the first"),
        None => {
            if let Err(e) = installations::learn_cloud_id(&state.db, &installation.client_key, cloud_id, now).await {
                tracing::warn!(client_key = %installation.client_key, error = %e, "could not keep the cloudId");
            }
        }
    }
}
