//! `POST /api/session/renew`: a context JWT buys a fresh session token. The
//! route accepts only a context JWT (its proof is `ContextCaller`), so a
//! session token cannot extend itself and a stolen one dies at its expiry.

use app::api::{backend::Caller, error::ApiError, types::SessionGrant};

use super::{active_installation, unavailable};
use crate::state::AppState;

pub(crate) async fn renew(state: &AppState, caller: &Caller) -> Result<SessionGrant, ApiError> {
    let installation = active_installation(state, caller).await?;
    state.mint_session(&installation, caller.account_id.as_deref()).map_err(unavailable)
}
