//! `POST /api/session/renew`: a context JWT from `AP.context.getToken()`
//! buys a fresh session token, so a page left open for hours keeps working.

use leptos::prelude::*;

use super::{client::ExchangeClient, error::ApiError, types::SessionGrant};

#[server(endpoint = "session/renew", client = ExchangeClient)]
pub async fn renew_session() -> Result<SessionGrant, ApiError> {
    super::backend::serve(|backend, caller| backend.renew_session(caller)).await
}
