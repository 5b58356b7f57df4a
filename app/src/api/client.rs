//! The browser side of authentication. The session token lives in memory
//! only (never a cookie, never localStorage: third-party cookies are blocked
//! in the iframe, and a header token leaves no CSRF surface). Every server
//! function call carries it as `Authorization: JWT <token>`; before it
//! expires, and once after any 401, the page asks `AP.context.getToken()` for
//! a context JWT and exchanges it for a fresh session token (seed 003).

use std::{future::Future, sync::RwLock};

use leptos::server_fn::{
    client::{Client, browser::BrowserClient},
    error::FromServerFnError,
    request::browser::BrowserRequest,
    response::browser::BrowserResponse,
};

use super::error::ApiError;

#[derive(Clone, Debug, Default)]
struct Tokens {
    session: Option<String>,
    /// Bumped with every new session token, so a 401 can tell whether the
    /// request went out with a token that has since been replaced.
    version: u64,
    /// A context JWT, set only while it is being exchanged.
    exchanging: Option<String>,
}

static TOKENS: RwLock<Tokens> = RwLock::new(Tokens { session: None, version: 0, exchanging: None });

pub fn set_session(token: String) {
    if let Ok(mut t) = TOKENS.write() {
        t.session = Some(token);
        t.version += 1;
    }
}

pub fn session_version() -> u64 {
    TOKENS.read().map(|t| t.version).unwrap_or_default()
}

fn bearer(prefer_exchange: bool) -> Option<String> {
    let t = TOKENS.read().ok()?;
    if prefer_exchange { t.exchanging.clone() } else { t.session.clone() }
}

fn with_authorization(req: BrowserRequest, token: Option<String>) -> BrowserRequest {
    if let Some(token) = token {
        req.headers().set("Authorization", &format!("JWT {token}"));
    }
    req
}

/// Sends server-function requests with the session token.
pub struct SessionClient;

/// Sends the session-renewal request with the context JWT being exchanged.
pub struct ExchangeClient;

macro_rules! token_client {
    ($client:ident, $exchange:expr) => {
        impl<E, IS, OS> Client<E, IS, OS> for $client
        where
            E: FromServerFnError,
            IS: FromServerFnError,
            OS: FromServerFnError,
        {
            type Request = BrowserRequest;
            type Response = BrowserResponse;

            fn send(req: Self::Request) -> impl Future<Output = Result<Self::Response, E>> + Send {
                <BrowserClient as Client<E, IS, OS>>::send(with_authorization(req, bearer($exchange)))
            }

            #[allow(clippy::type_complexity)]
            fn open_websocket(
                path: &str,
            ) -> impl Future<
                Output = Result<
                    (
                        impl futures::Stream<Item = Result<bytes::Bytes, bytes::Bytes>> + Send + 'static,
                        impl futures::Sink<bytes::Bytes> + Send + 'static,
                    ),
                    E,
                >,
            > + Send {
                <BrowserClient as Client<E, IS, OS>>::open_websocket(path)
            }

            fn spawn(future: impl Future<Output = ()> + Send + 'static) {
                <BrowserClient as Client<E, IS, OS>>::spawn(future)
            }
        }
    };
}

token_client!(SessionClient, false);
token_client!(ExchangeClient, true);

/// Calls a server function; if the session was refused, renews it through
/// `AP.context.getToken()` and tries once more. Before the call, a session
/// about to expire is renewed first.
pub fn call<T, F, Fut>(f: F) -> impl Future<Output = Result<T, ApiError>> + Send + 'static
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, ApiError>> + Send + 'static,
    T: Send + 'static,
{
    #[cfg(feature = "hydrate")]
    {
        // The browser is single-threaded; the JS promises inside are not Send.
        send_wrapper::SendWrapper::new(async move {
            if super::renewal::expires_soon() {
                let _ = super::renewal::renew().await;
            }
            let sent_with = session_version();
            match f().await {
                Err(ApiError::Unauthorized) => {
                    // Renew only if no newer session arrived while this call was out.
                    if session_version() == sent_with {
                        super::renewal::renew().await?;
                    }
                    f().await
                }
                other => other,
            }
        })
    }
    #[cfg(not(feature = "hydrate"))]
    {
        async move { f().await }
    }
}

/// Runs `exchange` with `context_token` as its bearer token; the token is
/// cleared afterwards even if the exchange is abandoned.
pub async fn exchanging<T>(context_token: String, exchange: impl Future<Output = T>) -> T {
    struct Clear;
    impl Drop for Clear {
        fn drop(&mut self) {
            if let Ok(mut t) = TOKENS.write() {
                t.exchanging = None;
            }
        }
    }
    if let Ok(mut t) = TOKENS.write() {
        t.exchanging = Some(context_token);
    }
    let _clear = Clear;
    exchange.await
}
