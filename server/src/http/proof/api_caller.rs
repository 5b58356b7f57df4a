//! `ApiCaller` and `ContextCaller`: a server-function call carries the app's
//! session token, a context JWT from `AP.context.getToken()` or a Forge
//! Invocation Token, in the `Authorization` header only (never the query,
//! threat C-08). The renewal
//! function takes a context JWT alone, so a session token cannot extend
//! itself. A verified call carries the [`Caller`] and the installation the
//! server function reads (the proof types are markers: those are the
//! verified values).

use app::api::backend::{Caller, CallerVia};
use axum::{extract::Request, http::HeaderMap};
use ids::TenantId;

use super::{
    Proof, ProofKind,
    forge::{allowed_site_url, learn_from, verified_fit},
    header_token,
    tenant::{admit, caller, caller_license, issuer_installation, shared_secret, tenant},
};
use crate::{
    connect::{
        forge_modules::ModuleRoute,
        host_token::verify_context_token,
        license::Said,
        session_token,
        token::{RawToken, TokenError},
    },
    error::{Error, Result},
    state::AppState,
    store::{Tenant, installations},
};

#[derive(Clone, Copy)]
pub(crate) struct ApiCaller;

#[derive(Clone, Copy)]
pub(crate) struct ContextCaller;

impl Proof for ApiCaller {
    const KIND: ProofKind = ProofKind::ApiCaller;
    async fn verify(state: &AppState, request: &mut Request) -> Result<Self> {
        let (caller, installation) = api_caller(state, request.headers(), request.uri().query()).await?;
        admit(request, caller, installation);
        Ok(Self)
    }
}

impl Proof for ContextCaller {
    const KIND: ProofKind = ProofKind::ContextCaller;
    async fn verify(state: &AppState, request: &mut Request) -> Result<Self> {
        let (caller, installation) = api_caller(state, request.headers(), request.uri().query()).await?;
        // A valid session token, but the wrong kind: known caller, not allowed.
        if caller.via != CallerVia::Context {
            return Err(Error::Forbidden);
        }
        admit(request, caller, installation);
        Ok(Self)
    }
}

/// The verified caller and the installation it belongs to.
type Verified = (Caller, Tenant);

async fn api_caller(state: &AppState, headers: &HeaderMap, query: Option<&str>) -> Result<Verified> {
    let token = header_token(headers, query)?;
    let header = token.header()?;
    // RS256 is Forge's alone; the app's session tokens and the host's context JWTs are HS256.
    if header.alg == "RS256" {
        return forge_caller(state, token).await;
    }
    let is_session = header.kid.is_some_and(|kid| state.session_keys.knows(&kid));
    if is_session { session_caller(state, token).await } else { context_caller(state, token).await }
}

/// A Forge Invocation Token of one of the manifest's UI modules: the tenant
/// is the active one that a verified install or Forge event made the
/// holder of the FIT's `installationId`, the user its `principal`. An
/// installation the app has never seen verified is refused, never created;
/// a UI call never brings a system token (the page could make one up).
async fn forge_caller(state: &AppState, token: RawToken<'_>) -> Result<Verified> {
    let (fit, module) = verified_fit(state, token, ModuleRoute::Api).await?;
    let mut installation = installations::find_active_by_installation_id(&state.db, &fit.installation_id)
        .await
        .map_err(|e| Error::Unavailable(format!("installation lookup: {e}")))?
        .ok_or(TokenError::UnknownIssuer)?;
    learn_from(state, &installation, &fit, None).await;
    // Forge's events carry no site URL, so a tenant born of one learns it
    // from its first page call, and that call already answers with it.
    if installation.connect.is_none()
        && let Some(site_url) = allowed_site_url(state, &fit)
    {
        installation.site.base_url = site_url;
    }
    // A page's call never brings the user's token (`requestRemote` carries
    // none), and a header the page wrote is never taken for one: acting as
    // the user goes through Forge's offline impersonation (`forge_api`).
    let forge_module = Some(module.key());
    let said = fit.license_active.map(|active| Said { active, at: fit.iat });
    let license = caller_license(state, &installation, said).await;
    let caller = Caller { forge_module, license, ..caller(&installation, fit.account_id, CallerVia::Forge) };
    Ok((caller, installation))
}

async fn session_caller(state: &AppState, token: RawToken<'_>) -> Result<Verified> {
    let claims =
        session_token::verify(token, &state.session_keys.verifying(), state.descriptor.key(), state.clock.now())?;
    let installation = tenant(state, &TenantId::from_trusted(claims.tenant)).await?;
    // A reinstall (new secret) or an uninstall ends every session minted before it (S-05).
    if !installation.is_active() || installation.install_generation != claims.r#gen {
        return Err(TokenError::UnknownIssuer.into());
    }
    let license = caller_license(state, &installation, None).await;
    Ok((Caller { license, ..caller(&installation, claims.sub, CallerVia::Session) }, installation))
}

async fn context_caller(state: &AppState, token: RawToken<'_>) -> Result<Verified> {
    let installation = issuer_installation(state, token).await?;
    let secret = shared_secret(state, &installation)?;
    let claims = verify_context_token(token, secret.expose(), state.clock.now())?;
    if !installation.is_active() {
        return Err(TokenError::UnknownIssuer.into());
    }
    let license = caller_license(state, &installation, None).await;
    Ok((Caller { license, ..caller(&installation, claims.sub, CallerVia::Context) }, installation))
}
