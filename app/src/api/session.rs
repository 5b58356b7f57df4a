//! `POST /api/session/renew`: a context JWT from `AP.context.getToken()`
//! buys a fresh session token, so a page left open for hours keeps working.
//! It is sent by its own client, with the context JWT being exchanged as
//! its token (the server accepts nothing else on this route).

use leptos::{
    prelude::*,
    server_fn::{
        client::{Client, browser::BrowserClient},
        error::FromServerFnError,
        request::browser::BrowserRequest,
        response::browser::BrowserResponse,
    },
};

use super::{
    browser_defaults::browser_client_rest, codec::JsonAnswer, error::ApiError, token_store, types::SessionGrant,
};

#[server(endpoint = "session/renew", client = ExchangeClient, output = JsonAnswer)]
pub async fn renew_session() -> Result<SessionGrant, ApiError> {
    super::backend::serve(|backend, caller| backend.renew_session(caller)).await
}

/// Sends the renewal with the context JWT being exchanged.
pub struct ExchangeClient;

impl<E: FromServerFnError, IS: FromServerFnError, OS: FromServerFnError> Client<E, IS, OS> for ExchangeClient {
    type Request = BrowserRequest;
    type Response = BrowserResponse;

    fn send(req: Self::Request) -> impl Future<Output = Result<Self::Response, E>> + Send {
        if let Some(token) = token_store::exchanging_token() {
            req.headers().set("Authorization", &format!("JWT {token}"));
        }
        <BrowserClient as Client<E, IS, OS>>::send(req)
    }

    browser_client_rest!(E, IS, OS);
}
