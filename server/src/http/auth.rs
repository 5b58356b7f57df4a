//! The authentication middleware: every request passes here, and the
//! [`RouteTable`] says which proof it needs. A verified request carries the
//! [`Caller`] (and, for pages, the [`PageSession`]) in its extensions, where
//! server functions and page rendering read it; nothing else identifies the
//! tenant.

use app::api::{
    backend::{Caller, CallerVia, PageSession},
    error::ApiError,
};
use axum::{
    Json,
    extract::{Request, State},
    http::{HeaderMap, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::{
    denied_page::Denied,
    route_auth::{RouteAuth, RouteTable},
};
use crate::{
    api::{is_admin, mint_session},
    connect::{
        authorization,
        claims::IssuerOnly,
        host_token::{PageRequest, verify_context_token, verify_page_token},
        lifecycle::InstallState,
        session_token,
        token::{RawToken, TokenError},
    },
    state::AppState,
    store::{Installation, installations},
};

pub async fn authenticate(State(state): State<AppState>, table: axum::Extension<std::sync::Arc<RouteTable>>, mut request: Request, next: Next) -> Response {
    match table.auth_for(request.uri().path()) {
        RouteAuth::Public | RouteAuth::Lifecycle | RouteAuth::Console => next.run(request).await,
        RouteAuth::Api => match api_caller(&state, request.headers(), request.uri().query()).await {
            Ok(caller) => {
                request.extensions_mut().insert(caller);
                next.run(request).await
            }
            Err(Refusal::Token(e)) => {
                tracing::info!(reason = e.reason(), path = request.uri().path(), "API request refused");
                (StatusCode::UNAUTHORIZED, Json(ApiError::Unauthorized)).into_response()
            }
            Err(Refusal::Unavailable) => (StatusCode::SERVICE_UNAVAILABLE, Json(ApiError::Unavailable)).into_response(),
        },
        RouteAuth::HostPage { admin } => match page_caller(&state, &PageLoad::of(&request), admin).await {
            Ok((caller, session)) => {
                request.extensions_mut().insert(caller);
                request.extensions_mut().insert(session);
                next.run(request).await
            }
            Err(denied) => denied.into_response(),
        },
    }
}

/// Why a request was not authenticated: a bad token (401), or the database
/// could not be asked (503: retrying may work).
enum Refusal {
    Token(TokenError),
    Unavailable,
}

impl From<TokenError> for Refusal {
    fn from(e: TokenError) -> Self {
        Self::Token(e)
    }
}

/// The installation a clientKey names; `UnknownIssuer` when there is none.
async fn installation(state: &AppState, client_key: &str) -> Result<Installation, Refusal> {
    match installations::find(&state.db, client_key).await {
        Ok(Some(installation)) => Ok(installation),
        Ok(None) => Err(Refusal::Token(TokenError::UnknownIssuer)),
        Err(e) => {
            tracing::error!(error = %e, "installation lookup failed");
            Err(Refusal::Unavailable)
        }
    }
}

/// What a page check needs of the request (the body stays behind: it is not `Sync`).
struct PageLoad {
    method: axum::http::Method,
    uri: axum::http::Uri,
    has_authorization: bool,
}

impl PageLoad {
    fn of(request: &Request) -> Self {
        Self {
            method: request.method().clone(),
            uri: request.uri().clone(),
            has_authorization: request.headers().contains_key(header::AUTHORIZATION),
        }
    }
}

/// An iframe page load: the host's page JWT in `?jwt=`, bound by its qsh to
/// this exact request, for an active installation.
async fn page_caller(state: &AppState, request: &PageLoad, admin_page: bool) -> Result<(Caller, PageSession), Denied> {
    let refuse = |reason: TokenError| {
        tracing::info!(reason = reason.reason(), path = request.uri.path(), "page JWT refused");
        Denied::NotAuthenticated
    };
    if request.has_authorization {
        return Err(refuse(TokenError::Ambiguous));
    }
    let raw = authorization::jwt_query_param(request.uri.query()).map_err(refuse)?.ok_or_else(|| refuse(TokenError::Missing))?;
    let token = RawToken::parse(&raw).map_err(refuse)?;
    let installation = match issuer_installation(state, token).await {
        Ok(installation) => installation,
        Err(Refusal::Token(e)) => return Err(refuse(e)),
        Err(Refusal::Unavailable) => return Err(Denied::Unavailable),
    };
    let secret = state.keyring.open(&installation.client_key, &installation.sealed_secret()).map_err(|_| refuse(TokenError::UnknownIssuer))?;
    let page = PageRequest { method: request.method.as_str(), path: request.uri.path(), query: request.uri.query().unwrap_or_default() };
    let claims = verify_page_token(token, secret.expose(), &page, state.clock.now()).map_err(refuse)?;
    if installation.state == InstallState::Disabled && installation.orphaned_at.is_none() {
        return Err(Denied::AppDisabled);
    }
    if !installation.is_active() {
        return Err(refuse(TokenError::UnknownIssuer));
    }
    if admin_page {
        match is_admin(state, &installation, claims.sub.as_deref()).await {
            Ok(true) => {}
            Ok(false) => return Err(Denied::NotAdmin),
            Err(_) => return Err(Denied::Unavailable),
        }
    }
    let grant = mint_session(state, &installation, claims.sub.as_deref()).map_err(|_| Denied::Unavailable)?;
    let caller = caller(&installation, claims.sub, CallerVia::Page);
    let session = PageSession { token: grant.token, expires_in: grant.expires_in, all_js_url: state.config.all_js_url.to_string() };
    Ok((caller, session))
}

/// A server-function call: a session token, or a context JWT, in the
/// `Authorization` header only (never the query, threat C-08).
async fn api_caller(state: &AppState, headers: &HeaderMap, query: Option<&str>) -> Result<Caller, Refusal> {
    if authorization::jwt_query_param(query)?.is_some() {
        return Err(TokenError::Ambiguous.into());
    }
    let values: Vec<&str> = headers.get_all(header::AUTHORIZATION).iter().map(|v| v.to_str().unwrap_or("")).collect();
    let token = authorization::from_authorization(&values)?.ok_or(TokenError::Missing)?;
    let is_session = token.header()?.kid.is_some_and(|kid| state.session_keys.knows(&kid));
    if is_session { session_caller(state, token).await } else { context_caller(state, token).await }
}

async fn session_caller(state: &AppState, token: RawToken<'_>) -> Result<Caller, Refusal> {
    let claims = session_token::verify(token, &state.session_keys.verifying(), state.descriptor.key(), state.clock.now())?;
    let installation = installation(state, &claims.tenant).await?;
    // A reinstall (new secret) or an uninstall ends every session minted before it (S-05).
    if !installation.is_active() || installation.install_generation != claims.r#gen {
        return Err(TokenError::UnknownIssuer.into());
    }
    Ok(caller(&installation, claims.sub, CallerVia::Session))
}

async fn context_caller(state: &AppState, token: RawToken<'_>) -> Result<Caller, Refusal> {
    let installation = issuer_installation(state, token).await?;
    let secret = state.keyring.open(&installation.client_key, &installation.sealed_secret()).map_err(|_| TokenError::UnknownIssuer)?;
    let claims = verify_context_token(token, secret.expose(), state.clock.now())?;
    if !installation.is_active() {
        return Err(TokenError::UnknownIssuer.into());
    }
    Ok(caller(&installation, claims.sub, CallerVia::Context))
}

/// The installation named by the token's (still unverified) `iss`: only
/// used to find the key that then verifies it (threat I-12).
async fn issuer_installation(state: &AppState, token: RawToken<'_>) -> Result<Installation, Refusal> {
    let issuer: IssuerOnly = token.unverified_claims()?;
    installation(state, &issuer.iss).await
}

fn caller(installation: &Installation, account_id: Option<String>, via: CallerVia) -> Caller {
    Caller { client_key: installation.client_key.clone(), account_id, install_generation: installation.install_generation, via }
}
