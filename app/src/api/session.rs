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

/// What the server implements for this function (in `server/src/api/session.rs`).
#[cfg(feature = "ssr")]
pub trait SessionBackend {
    fn renew_session<'a>(&'a self, caller: &'a super::backend::Caller) -> super::backend::ApiFuture<'a, SessionGrant>;
}

/// The server's implementation, as the request's context holds it.
#[cfg(feature = "ssr")]
pub type SharedSessionBackend = std::sync::Arc<dyn SessionBackend + Send + Sync>;

#[server(endpoint = "session/renew", client = ExchangeClient, output = JsonAnswer)]
pub async fn renew_session() -> Result<SessionGrant, ApiError> {
    super::backend::serve(|backend: &SharedSessionBackend, caller| backend.renew_session(caller)).await
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
