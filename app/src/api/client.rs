//! The client every server function but the renewal uses. It sends the
//! session token as `Authorization: JWT <token>` and keeps the session alive
//! by itself: a session about to expire is renewed before the call, and a
//! call refused with 401 is renewed (through `AP.context.getToken()`) and
//! sent once more (seed 003). Plain server functions, `ServerAction`s and
//! resources get this without wrapping anything.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use leptos::server_fn::{
    client::Client,
    error::{FromServerFnError, IntoAppError, ServerFnErrorErr},
    redirect::REDIRECT_HEADER,
    request::browser::BrowserRequest,
    response::ClientRes,
};
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;

use super::{browser_defaults::browser_client_rest, error::ApiError, token_store};

pub struct SessionClient;

// For `ApiError` only: a failed renewal answers with its own error.
impl<IS: FromServerFnError, OS: FromServerFnError> Client<ApiError, IS, OS> for SessionClient {
    type Request = BrowserRequest;
    type Response = SessionResponse;

    fn send(req: Self::Request) -> impl Future<Output = Result<Self::Response, ApiError>> + Send {
        // The browser is single-threaded; the JS promises inside are not Send.
        SendWrapper::new(send_renewing(req))
    }

    browser_client_rest!(ApiError, IS, OS);
}

/// Renews a session about to end, sends, and after a 401 renews (unless a
/// newer session arrived meanwhile) and sends a copy made beforehand.
async fn send_renewing(request: BrowserRequest) -> Result<SessionResponse, ApiError> {
    // A Custom UI has no session: Forge puts a fresh FIT on every call.
    #[cfg(feature = "hydrate")]
    if let Some(forge) = crate::host::forge::host() {
        let response = forge.send(request.into()).await.map_err(ApiError::Transport)?;
        return Ok(SessionResponse(SendWrapper::new(response.into())));
    }
    #[cfg(feature = "hydrate")]
    if super::renewal::expires_soon() {
        let _ = super::renewal::renew().await;
    }
    let abort = AbortOnDrop::new()?;
    let request = detached(request, &abort)?;
    // `Request.clone()` in JS: a body can be sent only once.
    let spare = request.clone().ok();
    let sent_with = token_store::session_version();
    let response = fetch(request).await?;
    let retry = spare.filter(|_| response.status() == 401);
    #[cfg(feature = "hydrate")]
    let response = match retry {
        Some(spare) => {
            if token_store::session_version() == sent_with {
                super::renewal::renew().await?;
            }
            fetch(spare).await?
        }
        None => response,
    };
    #[cfg(not(feature = "hydrate"))]
    let _ = (retry, sent_with);
    abort.disarm();
    Ok(response)
}

/// The request as a plain `fetch` request that follows our own abort
/// signal: server_fn's fires when its wrapper is dropped, before we send.
fn detached(request: BrowserRequest, abort: &AbortOnDrop) -> Result<web_sys::Request, ApiError> {
    let request: web_sys::Request = request.into();
    let init = web_sys::RequestInit::new();
    init.set_signal(Some(&abort.0.signal()));
    web_sys::Request::new_with_request_and_init(&request, &init).map_err(transport)
}

/// Aborts the call when its future is dropped (a resource that moved on, a
/// page that went away), unless the answer arrived.
struct AbortOnDrop(web_sys::AbortController, bool);

impl AbortOnDrop {
    fn new() -> Result<Self, ApiError> {
        web_sys::AbortController::new().map(|c| Self(c, true)).map_err(transport)
    }

    fn disarm(mut self) {
        self.1 = false;
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if self.1 {
            self.0.abort();
        }
    }
}

fn transport(e: wasm_bindgen::JsValue) -> ApiError {
    ApiError::Transport(format!("{e:?}"))
}

/// One `fetch` with the current session token.
async fn fetch(request: web_sys::Request) -> Result<SessionResponse, ApiError> {
    if let Some(token) = token_store::session() {
        let _ = request.headers().set("Authorization", &format!("JWT {token}"));
    }
    let response =
        gloo_net::http::Request::from(request).send().await.map_err(|e| ApiError::Transport(e.to_string()))?;
    Ok(SessionResponse(SendWrapper::new(response)))
}

/// The answer to a server-function call, as the generated code reads it.
pub struct SessionResponse(SendWrapper<gloo_net::http::Response>);

impl SessionResponse {
    fn status(&self) -> u16 {
        self.0.status()
    }
}

impl<E: FromServerFnError> ClientRes<E> for SessionResponse {
    fn try_into_string(self) -> impl Future<Output = Result<String, E>> + Send {
        SendWrapper::new(async move { self.0.text().await.map_err(|e| deserialization(e.to_string())) })
    }

    fn try_into_bytes(self) -> impl Future<Output = Result<Bytes, E>> + Send {
        SendWrapper::new(
            async move { self.0.binary().await.map(Bytes::from).map_err(|e| deserialization(e.to_string())) },
        )
    }

    fn try_into_stream(self) -> Result<impl Stream<Item = Result<Bytes, Bytes>> + Send + 'static, E> {
        let body = self.0.body().ok_or_else(|| deserialization::<E>("the response has no body".into()))?;
        let stream = wasm_streams::ReadableStream::from_raw(body).into_stream().map(|chunk| match chunk {
            Ok(data) => Ok(Bytes::from(data.unchecked_into::<js_sys::Uint8Array>().to_vec())),
            Err(e) => Err(E::from_server_fn_error(ServerFnErrorErr::Request(format!("{e:?}"))).ser()),
        });
        Ok(SendWrapper::new(stream))
    }

    fn status(&self) -> u16 {
        self.0.status()
    }

    fn status_text(&self) -> String {
        self.0.status_text()
    }

    fn location(&self) -> String {
        self.0.headers().get("Location").unwrap_or_else(|| self.0.url())
    }

    fn has_redirect(&self) -> bool {
        self.0.headers().get(REDIRECT_HEADER).is_some()
    }
}

fn deserialization<E: FromServerFnError>(reason: String) -> E {
    ServerFnErrorErr::Deserialization(reason).into_app_error()
}
