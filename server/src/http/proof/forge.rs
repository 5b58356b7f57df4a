//! Forge proofs: a Forge Invocation Token verified under Forge's JWKS for
//! this app (`FORGE_APP_ID`) and bound to the route it arrives on
//! (`connect::forge_modules::admitted`): [`ForgeEventProof`] for Forge's
//! lifecycle events and scheduled trigger, [`ForgeProductEventProof`] for
//! product events. A FIT of another module, or one with a principal, is a
//! 401 with the same body, and nothing is written. A product event's proof
//! also finds its tenant; a lifecycle event's tenant is found by the
//! lifecycle service, since `installed` may name an installation that only
//! that event makes known.

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::Request,
    http::{HeaderMap, Uri},
};
use ids::BaseUrl;

use super::{Proof, ProofKind, callback::read_body, header_token};
use crate::{
    connect::{
        forge_event::ForgeEvent,
        forge_modules::{ForgeModule, ModuleRoute, PRODUCT_EVENTS_PATH, admitted},
        forge_token::{VerifiedFit, verify_fit},
        token::{RawToken, TokenError},
    },
    error::{Error, Result},
    lifecycle::forge_event,
    outbound::{forge_keys::ForgeKeyError, system_tokens::MAX_TOKEN_BYTES},
    secrets::SharedSecret,
    state::AppState,
    store::{Tenant, installations},
};

/// Where Forge puts the app's system token, when the endpoint asks for one.
const SYSTEM_TOKEN_HEADER: &str = "x-forge-oauth-system";

/// A verified Forge lifecycle event or scheduled trigger.
#[derive(Clone)]
pub(crate) struct ForgeEventProof {
    pub event: ForgeEvent,
    pub delivery: ForgeDeliveryProof,
}

/// A verified Forge product event, with its bounded body (read only after
/// the FIT verified).
#[derive(Clone)]
pub(crate) struct ForgeProductEventProof {
    pub delivery: ForgeDeliveryProof,
    pub body: Bytes,
    /// The tenant that holds the FIT's installation, if a verified event made
    /// it known. None is the handler's 401: the FIT verified, so it is not a
    /// refusal counted against Forge's network.
    pub tenant: Option<Tenant>,
}

/// What every Forge delivery's proof holds: the FIT, bound to the module
/// that delivers there, and the system token if that module's endpoint asks
/// for one (any other caller's is ignored).
#[derive(Clone)]
pub(crate) struct ForgeDeliveryProof {
    pub fit: VerifiedFit,
    pub system_token: Option<Arc<SharedSecret>>,
}

impl ForgeDeliveryProof {
    /// The system token as text, if one came with the delivery.
    pub(crate) fn system_token(&self) -> Option<&str> {
        self.system_token.as_deref().and_then(|t| std::str::from_utf8(t.expose()).ok())
    }
}

impl Proof for ForgeEventProof {
    const KIND: ProofKind = ProofKind::ForgeEvent;
    async fn verify(state: &AppState, request: &mut Request) -> Result<Self> {
        let event = ForgeEvent::from_path(request.uri().path()).ok_or(Error::NotFound)?;
        let delivery = verify_delivery(state, request.headers(), request.uri(), ModuleRoute::Event(event)).await?;
        Ok(Self { event, delivery })
    }

    /// A FIT Forge signed, sent by Forge.
    fn vouches_for_network(&self) -> bool {
        true
    }
}

impl Proof for ForgeProductEventProof {
    const KIND: ProofKind = ProofKind::ForgeEvent;
    async fn verify(state: &AppState, request: &mut Request) -> Result<Self> {
        if request.uri().path() != PRODUCT_EVENTS_PATH {
            return Err(Error::NotFound);
        }
        let delivery = verify_delivery(state, request.headers(), request.uri(), ModuleRoute::ProductEvents).await?;
        let body = read_body(request).await?;
        let tenant = installations::find_by_installation_id(&state.db, &delivery.fit.installation_id)
            .await
            .map_err(|e| Error::Unavailable(format!("installation lookup: {e}")))?;
        Ok(Self { delivery, body, tenant })
    }

    /// A FIT Forge signed, sent by Forge (whether or not its tenant is known here).
    fn vouches_for_network(&self) -> bool {
        true
    }
}

async fn verify_delivery(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    route: ModuleRoute,
) -> Result<ForgeDeliveryProof> {
    let token = header_token(headers, uri.query())?;
    let (fit, module) = verified_fit(state, token, route).await?;
    let system_token = system_token(headers)
        .filter(|_| module.asks_system_token())
        .map(|t| Arc::new(SharedSecret::new(t.as_bytes().to_vec())));
    Ok(ForgeDeliveryProof { fit, system_token })
}

/// Verifies `token` as a FIT for `route`, when Forge support is on. Only
/// RS256 under a key of the configured JWKS; a JWKS that cannot be fetched
/// is a 503. Returns the module the FIT was minted for.
pub(super) async fn verified_fit(
    state: &AppState,
    token: RawToken<'_>,
    route: ModuleRoute,
) -> Result<(VerifiedFit, ForgeModule)> {
    let app_id = state.config.forge.app_id.as_deref().ok_or(TokenError::WrongAlgorithm)?;
    let header = token.header()?;
    if header.alg != "RS256" {
        return Err(TokenError::WrongAlgorithm.into());
    }
    let kid = header.kid.as_deref().ok_or(TokenError::BadKeyId)?;
    if !state.forge_keys.has(kid) {
        super::over_share::before_costly_work()?;
    }
    let key = state.forge_keys.get(kid).await.map_err(|e| match e {
        ForgeKeyError::UnknownKid => TokenError::BadKeyId.into(),
        ForgeKeyError::Unavailable => Error::Unavailable("Forge JWKS".into()),
    })?;
    let fit = verify_fit(token, &key, app_id, state.clock.now())?;
    match admitted(route, fit.module_key.as_deref(), fit.account_id.is_some()) {
        Some(module) => Ok((fit, module)),
        None => Err(wrong_module(state, &fit)),
    }
}

/// A FIT that verified but was sent where its module is not accepted: any
/// user of the app holds one for its pages, and Atlassian's egress carries
/// it, so its refusal is charged to that installation and user, never to
/// the network (`counted_refusal` leaves `WrongModule` alone).
fn wrong_module(state: &AppState, fit: &VerifiedFit) -> Error {
    let user = fit.account_id.as_ref().map(|a| a.as_str().to_string()).unwrap_or_default();
    match state.signer_refusals.spend((fit.installation_id.as_str().to_string(), user)) {
        Ok(()) => TokenError::WrongModule.into(),
        Err(wait) => Error::TooManyRefusals(wait),
    }
}

/// The system token a call carries, if it looks like one.
fn system_token(headers: &HeaderMap) -> Option<&str> {
    token_header(headers, SYSTEM_TOKEN_HEADER)
}

fn token_header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let token = headers.get(name)?.to_str().ok()?;
    (!token.is_empty() && token.len() <= MAX_TOKEN_BYTES).then_some(token)
}

/// What a verified FIT teaches about its (already known) tenant: the newest
/// system token (only from a delivery whose endpoint asks for one), the
/// site's cloudId and Forge environment the first time they are named, and a
/// Forge tenant's new site URL after a rename. Failing to keep any of it
/// does not fail the call; an unchanged tenant costs no write.
pub(crate) async fn learn_from(state: &AppState, tenant: &Tenant, fit: &VerifiedFit, token: Option<&str>) {
    let now = state.clock.now();
    if let Some(token) = token {
        let kept = state.system_tokens.remember(&state.db, &state.keyring, tenant, fit, token, now);
        if let Err(e) = kept.await {
            tracing::warn!(tenant_id = %tenant.tenant_id, error = %e, "could not keep the Forge system token");
        }
    }
    if let (Some(known), Some(named)) = (tenant.site.cloud_id.as_deref(), fit.cloud_id.as_deref())
        && known != named
    {
        tracing::warn!(tenant_id = %tenant.tenant_id, "a FIT names another cloudId; kept the first");
    }
    let site_url = allowed_site_url(state, fit);
    if let Err(e) = forge_event::learn(&state.db, tenant, fit, site_url.as_ref(), now).await {
        tracing::warn!(tenant_id = %tenant.tenant_id, error = %e, "could not keep what a FIT says of its site");
    }
}

/// The FIT's site URL, without a trailing slash, if the host allowlist accepts it.
pub(crate) fn allowed_site_url(state: &AppState, fit: &VerifiedFit) -> Option<BaseUrl> {
    let url = fit.site_url.as_ref()?.as_str().trim_end_matches('/');
    state.config.connect.host_allowlist.allows(url).then(|| BaseUrl::new(url))
}
