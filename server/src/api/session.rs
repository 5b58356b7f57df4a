//! Minting the app's session token: after a page JWT verifies, and in
//! exchange for a context JWT (`POST /api/session/renew`).

use app::api::{
    backend::{Caller, CallerVia},
    error::ApiError,
    types::SessionGrant,
};

use super::active_installation;
use crate::{
    connect::session_token::{Issue, mint},
    secrets::random_hex,
    state::AppState,
    store::Installation,
};

pub fn mint_session(state: &AppState, installation: &Installation, account_id: Option<&str>) -> Result<SessionGrant, ApiError> {
    // 128 random bits (threat S-10).
    let jti = random_hex(16).map_err(|_| ApiError::Unavailable)?;
    let issue = Issue {
        app_key: state.descriptor.key(),
        tenant: &installation.client_key,
        account_id,
        generation: installation.install_generation,
        jti,
        now: state.clock.now(),
        ttl_secs: state.config.session_ttl.as_secs() as i64,
    };
    let (token, claims) = mint(&state.session_keys.signing(), &issue).map_err(|_| ApiError::Unavailable)?;
    Ok(SessionGrant { token, expires_at: claims.exp, expires_in: claims.exp - claims.iat })
}

/// Only a context JWT from the host may buy a new session: a session token
/// cannot extend itself, so a stolen one dies at its expiry.
pub async fn renew(state: &AppState, caller: &Caller) -> Result<SessionGrant, ApiError> {
    if caller.via != CallerVia::Context {
        return Err(ApiError::Forbidden);
    }
    let installation = active_installation(state, caller).await?;
    mint_session(state, &installation, caller.account_id.as_deref())
}
