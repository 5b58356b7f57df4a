//! The client every server function but the renewal uses. It sends the
//! session token as `Authorization: JWT <token>` and keeps the session alive
//! by itself: a session about to expire is renewed before the call, and a
//! call refused with 401 is renewed (through `AP.context.getToken()`) and
//! sent once more (seed 003). Plain server functions, `ServerAction`s and
//! resources get this without wrapping anything.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use leptos::server_fn::{
    client::{Client, browser::BrowserClient},
    error::{FromServerFnError, IntoAppError, ServerFnErrorErr},
    redirect::REDIRECT_HEADER,
    request::browser::BrowserRequest,
    response::ClientRes,
};
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;

use super::token_store;

pub struct SessionClient;

impl<E: FromServerFnError, IS: FromServerFnError, OS: FromServerFnError> Client<E, IS, OS> for SessionClient {
    type Request = BrowserRequest;
    type Response = SessionResponse;

    fn send(req: Self::Request) -> impl Future<Output = Result<Self::Response, E>> + Send {
        // The browser is single-threaded; the JS promises inside are not Send.
        SendWrapper::new(send_renewing(req))
    }

    #[allow(clippy::type_complexity)]
    fn open_websocket(
        path: &str,
    ) -> impl Future<
        Output = Result<
            (impl Stream<Item = Result<Bytes, Bytes>> + Send + 'static, impl futures::Sink<Bytes> + Send + 'static),
            E,
        >,
    > + Send {
        <BrowserClient as Client<E, IS, OS>>::open_websocket(path)
    }

    fn spawn(future: impl Future<Output = ()> + Send + 'static) {
        <BrowserClient as Client<E, IS, OS>>::spawn(future)
    }
}

/// Renews a session about to end, sends, and after a 401 renews (unless a
/// newer session arrived meanwhile) and sends a copy made beforehand.
async fn send_renewing<E: FromServerFnError>(request: BrowserRequest) -> Result<SessionResponse, E> {
    #[cfg(feature = "hydrate")]
    if super::renewal::expires_soon() {
        let _ = super::renewal::renew().await;
    }
    let request = detached(request)?;
    // `Request.clone()` in JS: a body can be sent only once.
    let spare = request.clone().ok();
    let sent_with = token_store::session_version();
    let response = fetch(request).await?;
    let Some(spare) = spare.filter(|_| response.status() == 401) else { return Ok(response) };
    #[cfg(feature = "hydrate")]
    if token_store::session_version() == sent_with && super::renewal::renew().await.is_err() {
        return Ok(response);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = sent_with;
    fetch(spare).await
}

/// The request as a plain `fetch` request. server_fn ties it to an abort
/// signal that fires when its wrapper is dropped; the copy follows none.
fn detached<E: FromServerFnError>(request: BrowserRequest) -> Result<web_sys::Request, E> {
    let request: web_sys::Request = request.into();
    let init = web_sys::RequestInit::new();
    // `null`, not absent: an absent signal would follow the aborted one.
    let detach = js_sys::Reflect::set(&init, &"signal".into(), &wasm_bindgen::JsValue::NULL)
        .and_then(|_| web_sys::Request::new_with_request_and_init(&request, &init));
    detach.map_err(|e| ServerFnErrorErr::Request(format!("{e:?}")).into_app_error())
}

/// One `fetch` with the current session token.
async fn fetch<E: FromServerFnError>(request: web_sys::Request) -> Result<SessionResponse, E> {
    if let Some(token) = token_store::session() {
        let _ = request.headers().set("Authorization", &format!("JWT {token}"));
    }
    let response = gloo_net::http::Request::from(request)
        .send()
        .await
        .map_err(|e| ServerFnErrorErr::Request(e.to_string()).into_app_error())?;
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
