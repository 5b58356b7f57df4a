//! `HostPage` and `AdminPage`: an iframe page load carries the host's page
//! JWT in `?jwt=`, bound by its qsh to this exact request, for an active
//! installation; an admin page also needs the host to say the user is a site
//! administrator. A verified load mints the page's session token: the
//! request then carries the [`Caller`], its installation and the [`PageSession`] the page
//! renders into its `<head>` (the proof types themselves are markers).

use app::api::backend::{Caller, CallerVia, PageSession};
use axum::{extract::Request, http::header};

use super::{
    Proof, ProofKind,
    tenant::{admit, caller, caller_license, issuer_installation, shared_secret},
};
use crate::{
    connect::{
        authorization,
        host_token::{PageRequest, verify_page_token},
        license::{self, Said},
        lifecycle::InstallState,
        token::{RawToken, TokenError},
    },
    error::{Error, Result},
    state::AppState,
};

#[derive(Clone, Copy)]
pub(crate) struct HostPage;

#[derive(Clone, Copy)]
pub(crate) struct AdminPage;

impl Proof for HostPage {
    const KIND: ProofKind = ProofKind::HostPage;
    async fn verify(state: &AppState, request: &mut Request) -> Result<Self> {
        page_load(state, request, false).await.map(|()| Self)
    }
}

impl Proof for AdminPage {
    const KIND: ProofKind = ProofKind::AdminPage;
    async fn verify(state: &AppState, request: &mut Request) -> Result<Self> {
        page_load(state, request, true).await.map(|()| Self)
    }
}

async fn page_load(state: &AppState, request: &mut Request, admin_page: bool) -> Result<()> {
    if request.headers().contains_key(header::AUTHORIZATION) {
        return Err(TokenError::Ambiguous.into());
    }
    let uri = request.uri();
    let raw = authorization::jwt_query_param(uri.query())?.ok_or(TokenError::Missing)?;
    let token = RawToken::parse(&raw)?;
    let installation = issuer_installation(state, token).await?;
    let secret = shared_secret(state, &installation)?;
    let page =
        PageRequest { method: request.method().as_str(), path: uri.path(), query: uri.query().unwrap_or_default() };
    let claims = verify_page_token(token, secret.expose(), &page, state.clock.now())?;
    if installation.state == InstallState::Disabled && installation.orphaned_at.is_none() {
        return Err(Error::AppDisabled);
    }
    if !installation.is_active() {
        return Err(TokenError::UnknownIssuer.into());
    }
    if admin_page && !state.is_site_admin(&installation, claims.sub.as_ref()).await? {
        return Err(Error::NotAdmin);
    }
    let grant =
        state.mint_session(&installation, claims.sub.as_ref()).map_err(|e| Error::Unavailable(e.to_string()))?;
    let lic = license::said_by_lic(lic_param(uri.query()).as_deref());
    let said = lic.map(|active| Said { active, at: claims.iat });
    let license = caller_license(state, &installation, said).await;
    let caller = Caller { license, ..caller(&installation, claims.sub, CallerVia::Page) };
    let session = PageSession {
        token: grant.token,
        expires_in: grant.expires_in,
        all_js_url: state.config.connect.all_js_url.to_string(),
    };
    request.extensions_mut().insert(session);
    admit(request, caller, installation);
    Ok(())
}

/// The page's `lic` parameter (covered by the page JWT's qsh).
fn lic_param(query: Option<&str>) -> Option<String> {
    let pairs = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes());
    pairs.into_iter().find(|(name, _)| name == "lic").map(|(_, value)| value.into_owned())
}
