//! `POST /api/session/renew`: a context JWT buys a fresh session token. The
//! route accepts only a context JWT (its proof is `ContextCaller`), so a
//! session token cannot extend itself and a stolen one dies at its expiry.

use app::api::{
    backend::{ApiFuture, Caller},
    error::ApiError,
    types::SessionGrant,
};

use super::{unavailable, verified_installation};
use crate::state::AppState;

async fn renew(state: &AppState, caller: &Caller) -> Result<SessionGrant, ApiError> {
    let installation = verified_installation(caller)?;
    state.mint_session(&installation, caller.account_id.as_ref()).map_err(unavailable)
}

/// `app::api::session`'s function.
impl app::api::session::SessionBackend for super::AppBackend {
    fn renew_session<'a>(&'a self, caller: &'a Caller) -> ApiFuture<'a, SessionGrant> {
        Box::pin(renew(&self.state, caller))
    }
}
