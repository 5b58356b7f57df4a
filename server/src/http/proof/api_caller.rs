//! `ApiCaller` and `ContextCaller`: a server-function call carries the app's
//! session token, a context JWT from `AP.context.getToken()` or a Forge
//! Invocation Token, in the `Authorization` header only (never the query,
//! threat C-08). The renewal
//! function takes a context JWT alone, so a session token cannot extend
//! itself. A verified call carries the [`Caller`] the server function reads
//! (the proof types are markers: the `Caller` is the verified value).

use app::api::backend::{Caller, CallerVia};
use axum::{
    extract::Request,
    http::{HeaderMap, header},
};

use super::{
    Proof, ProofKind,
    tenant::{caller, installation, issuer_installation, shared_secret},
};
use crate::{
    connect::{
        authorization,
        forge_token::verify_fit,
        host_token::verify_context_token,
        session_token,
        token::{RawToken, TokenError},
    },
    error::{Error, Result},
    outbound::{forge_keys::ForgeKeyError, system_tokens::MAX_TOKEN_BYTES},
    state::AppState,
    store::{Installation, installations},
};

/// Where Forge puts the app's system token, when the endpoint asks for one.
const SYSTEM_TOKEN_HEADER: &str = "x-forge-oauth-system";

#[derive(Clone, Copy)]
pub(crate) struct ApiCaller;

#[derive(Clone, Copy)]
pub(crate) struct ContextCaller;

impl Proof for ApiCaller {
    const KIND: ProofKind = ProofKind::ApiCaller;
    async fn verify(state: &AppState, request: &mut Request) -> Result<Self> {
        let caller = api_caller(state, request.headers(), request.uri().query()).await?;
        request.extensions_mut().insert(caller);
        Ok(Self)
    }
}

impl Proof for ContextCaller {
    const KIND: ProofKind = ProofKind::ContextCaller;
    async fn verify(state: &AppState, request: &mut Request) -> Result<Self> {
        let caller = api_caller(state, request.headers(), request.uri().query()).await?;
        // A valid session token, but the wrong kind: known caller, not allowed.
        if caller.via != CallerVia::Context {
            return Err(Error::Forbidden);
        }
        request.extensions_mut().insert(caller);
        Ok(Self)
    }
}

async fn api_caller(state: &AppState, headers: &HeaderMap, query: Option<&str>) -> Result<Caller> {
    if authorization::jwt_query_param(query)?.is_some() {
        return Err(TokenError::Ambiguous.into());
    }
    let values: Vec<&str> = headers.get_all(header::AUTHORIZATION).iter().map(|v| v.to_str().unwrap_or("")).collect();
    let token = authorization::from_authorization(&values)?.ok_or(TokenError::Missing)?;
    let header = token.header()?;
    // RS256 is Forge's alone; the app's session tokens and the host's context JWTs are HS256.
    if header.alg == "RS256" {
        return forge_caller(state, token, header.kid.as_deref(), headers).await;
    }
    let is_session = header.kid.is_some_and(|kid| state.session_keys.knows(&kid));
    if is_session { session_caller(state, token).await } else { context_caller(state, token).await }
}

/// A Forge Invocation Token, when Forge support is on (`FORGE_APP_ID`): the
/// tenant is the active installation that a verified install joined to the
/// FIT's `installationId`, the user its `principal`. An installation the app
/// has never seen verified is refused, never created.
async fn forge_caller(state: &AppState, token: RawToken<'_>, kid: Option<&str>, headers: &HeaderMap) -> Result<Caller> {
    let app_id = state.config.forge_app_id.as_deref().ok_or(TokenError::WrongAlgorithm)?;
    let key = state.forge_keys.get(kid.ok_or(TokenError::BadKeyId)?).await.map_err(|e| match e {
        ForgeKeyError::UnknownKid => TokenError::BadKeyId.into(),
        ForgeKeyError::Unavailable => Error::Unavailable("Forge JWKS".into()),
    })?;
    let fit = verify_fit(token, &key, app_id, state.clock.now())?;
    let installation = installations::find_active_by_installation_id(&state.db, &fit.installation_id)
        .await
        .map_err(|e| Error::Unavailable(format!("installation lookup: {e}")))?
        .ok_or(TokenError::UnknownIssuer)?;
    keep_system_token(state, &installation, &fit.installation_id, headers).await;
    Ok(caller(&installation, fit.account_id, CallerVia::Forge))
}

/// The system token a verified invocation carries, kept for later calls as
/// the app. Failing to keep it does not fail the call.
async fn keep_system_token(state: &AppState, installation: &Installation, installation_id: &str, headers: &HeaderMap) {
    let Some(token) = headers.get(SYSTEM_TOKEN_HEADER).and_then(|v| v.to_str().ok()) else { return };
    if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
        return;
    }
    let now = state.clock.now();
    let kept = state.system_tokens.remember(&state.db, &state.keyring, installation, installation_id, token, now);
    if let Err(e) = kept.await {
        tracing::warn!(client_key = %installation.client_key, error = %e, "could not keep the Forge system token");
    }
}

async fn session_caller(state: &AppState, token: RawToken<'_>) -> Result<Caller> {
    let claims =
        session_token::verify(token, &state.session_keys.verifying(), state.descriptor.key(), state.clock.now())?;
    let installation = installation(state, &claims.tenant).await?;
    // A reinstall (new secret) or an uninstall ends every session minted before it (S-05).
    if !installation.is_active() || installation.install_generation != claims.r#gen {
        return Err(TokenError::UnknownIssuer.into());
    }
    Ok(caller(&installation, claims.sub, CallerVia::Session))
}

async fn context_caller(state: &AppState, token: RawToken<'_>) -> Result<Caller> {
    let installation = issuer_installation(state, token).await?;
    let secret = shared_secret(state, &installation)?;
    let claims = verify_context_token(token, secret.expose(), state.clock.now())?;
    if !installation.is_active() {
        return Err(TokenError::UnknownIssuer.into());
    }
    Ok(caller(&installation, claims.sub, CallerVia::Context))
}
