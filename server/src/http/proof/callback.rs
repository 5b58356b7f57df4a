//! `LifecycleProof`: a lifecycle callback (`/installed`, `/uninstalled`,
//! `/enabled`, `/disabled`), parsed and bounded, from an allowed host, and
//! signed as `connect::callback_proof` says its event needs. A refusal is
//! logged for the tenant (when it exists) and changes nothing stored.

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::{HeaderMap, StatusCode, Uri, header},
};
use ids::UnixTime;

use super::{
    Proof, ProofKind,
    tenant::{shared_secret, stored_installation},
};
use crate::{
    client_address,
    config::Config,
    connect::{
        authorization,
        callback_proof::{InstallMode, RequiredProof, VerifiedCallback, required_proof},
        callback_token::{CallbackContext, verify_signed_install, verify_tenant_signed},
        lifecycle::{InstallState, LifecycleEvent},
        payload::LifecyclePayload,
        signature::Signature,
        token::{RawToken, TokenError},
    },
    error::{Error, Result},
    outbound::install_keys::KeyError,
    state::AppState,
    store::event_log::{self, Rejection},
};

/// A callback that passed its event's rule.
#[derive(Clone)]
pub(crate) struct LifecycleProof {
    pub event: LifecycleEvent,
    pub payload: Arc<LifecyclePayload>,
    /// `None`: a `disabled` without a JWT for a tenant that is unknown or
    /// already uninstalled. Atlassian sends these; answer 204, change nothing.
    pub verified: Option<VerifiedCallback>,
}

impl Proof for LifecycleProof {
    const KIND: ProofKind = ProofKind::Lifecycle;
    async fn verify(state: &AppState, request: &mut Request) -> Result<Self> {
        let event = LifecycleEvent::from_path(request.uri().path()).ok_or(Error::NotFound)?;
        let body = read_body(request).await?;
        let payload = LifecyclePayload::parse(&body, event).map_err(|reason| Error::BadRequest(reason.into()))?;
        if payload.key != state.descriptor.key() {
            return Err(Error::BadRequest("the payload is for another app key".into()));
        }
        if !state.config.connect.host_allowlist.allows(&payload.base_url) {
            let (client_key, base_url) = (&payload.client_key, &payload.base_url);
            tracing::warn!(%client_key, %base_url, "install from a host outside the allowlist");
            return Err(Error::Forbidden);
        }
        // The body is not `Sync`, so only these cross the awaits below.
        let (uri, headers) = (request.uri().clone(), request.headers().clone());
        let network = client_address::of_request(request.extensions(), &headers, &state.config.shares.trusted_proxies);
        match authenticate(state, event, &uri, &headers, &payload, network).await {
            Ok(verified) => Ok(Self { event, payload: Arc::new(payload), verified }),
            Err(Error::Unauthorized(reason)) => Err(reject(state, event, &payload, reason).await),
            Err(other) => Err(other),
        }
    }

    /// A signed callback; an unsigned one (legacy installs, a bare `disabled`) proves nothing.
    fn vouches_for_network(&self) -> bool {
        self.verified.as_ref().is_some_and(|v| v.signature != Signature::Unsigned)
    }
}

/// The body, bounded by the route's `DefaultBodyLimit`.
pub(super) async fn read_body(request: &mut Request) -> Result<Bytes> {
    let (parts, body) = std::mem::take(request).into_parts();
    let bytes =
        Bytes::from_request(Request::from_parts(parts.clone(), body), &()).await.map_err(|e| match e.status() {
            StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge,
            _ => Error::BadRequest(e.body_text()),
        })?;
    *request = Request::from_parts(parts, bytes.clone().into());
    Ok(bytes)
}

fn install_mode(config: &Config) -> InstallMode {
    if config.connect.legacy_install { InstallMode::Legacy } else { InstallMode::Signed }
}

async fn authenticate(
    state: &AppState,
    event: LifecycleEvent,
    uri: &Uri,
    headers: &HeaderMap,
    payload: &LifecyclePayload,
    network: Option<std::net::IpAddr>,
) -> Result<Option<VerifiedCallback>> {
    // Lifecycle tokens travel only in the Authorization header.
    if authorization::jwt_query_param(uri.query())?.is_some() {
        return Err(TokenError::Ambiguous.into());
    }
    let headers = headers.get_all(header::AUTHORIZATION);
    let values: Vec<&str> = headers.iter().filter_map(|v| v.to_str().ok()).collect();
    if values.len() != headers.iter().count() {
        return Err(TokenError::Malformed.into());
    }
    let token = authorization::from_authorization(&values)?;
    let header = token.map(|t| t.header()).transpose()?;
    let alg = header.as_ref().map(|h| h.alg.as_str());
    let now = state.clock.now();
    let context = CallbackContext { client_key: &payload.client_key, path: uri.path(), now };
    let verified = |signature, iat, token: RawToken<'_>| {
        Some(VerifiedCallback { signature, iat, fingerprint: Some(fingerprint(token)) })
    };
    match (required_proof(event, alg, install_mode(&state.config)), token) {
        (RequiredProof::AtlassianKey, Some(token)) => {
            let kid = header.and_then(|h| h.kid).ok_or(TokenError::BadKeyId)?;
            let key = state.install_keys.get(&kid, network).await.map_err(|e| match e {
                KeyError::Unavailable => Error::Unavailable("install key server".into()),
                KeyError::Busy => Error::Unavailable("install key fetches are busy".into()),
                KeyError::InvalidKid | KeyError::UnknownKid => TokenError::BadKeyId.into(),
            })?;
            let claims = verify_signed_install(token, &key, state.config.base_url_str(), &context)?;
            Ok(verified(Signature::AtlassianRs256, claims.iat, token))
        }
        (RequiredProof::TenantSecret, Some(token)) => {
            let iat = tenant_signed(state, token, &context).await?;
            Ok(verified(Signature::TenantHs256, iat, token))
        }
        (RequiredProof::LegacyUnsigned, _) => {
            Ok(Some(VerifiedCallback { signature: Signature::Unsigned, iat: now, fingerprint: None }))
        }
        (RequiredProof::NoneIfTenantGone, _) => {
            let current = stored_installation(state, &payload.client_key).await?;
            match current.map(|installation| installation.state) {
                None | Some(InstallState::Uninstalled) => Ok(None),
                Some(_) => Err(TokenError::Missing.into()),
            }
        }
        (RequiredProof::Refused(e), _) => Err(e.into()),
        (RequiredProof::AtlassianKey | RequiredProof::TenantSecret, None) => Err(TokenError::Missing.into()),
    }
}

/// HS256 under the tenant's stored secret; the tenant is found by the body's
/// clientKey, which the token's `iss` must equal. Returns the token's `iat`.
async fn tenant_signed(state: &AppState, token: RawToken<'_>, context: &CallbackContext<'_>) -> Result<UnixTime> {
    let installation = stored_installation(state, context.client_key).await?.ok_or(TokenError::UnknownIssuer)?;
    let secret = shared_secret(state, &installation)?;
    Ok(verify_tenant_signed(token, secret.expose(), context)?.iat)
}

/// Logs the refusal for the clientKey's installation (if it has one) and
/// returns the 401 to send.
async fn reject(state: &AppState, event: LifecycleEvent, payload: &LifecyclePayload, reason: &'static str) -> Error {
    tracing::warn!(client_key = %payload.client_key, event = event.as_str(), reason, "lifecycle callback refused");
    let entry =
        Rejection { client_key: &payload.client_key, event: event.as_str(), now: state.clock.now(), detail: reason };
    if let Err(e) = event_log::append_rejection(&state.db, &entry).await {
        tracing::warn!(error = %e, "could not log a rejected lifecycle callback");
    }
    Error::Unauthorized(reason)
}

fn fingerprint(token: RawToken<'_>) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.as_str().as_bytes()))
}
