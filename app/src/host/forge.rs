//! Forge's side of the host (compiled with `hydrate` only): the object the
//! Custom UI's boot script (`tools/forge-ui/src/boot.js`) leaves at
//! `window.__appHost` once it has loaded the real `@forge/bridge`. The script
//! keeps the bridge's promises and the 25 s limit of UI calls; this side
//! turns server-function requests into `requestRemote` calls and back.

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use wasm_bindgen_futures::JsFuture;

use super::FORGE_REMOTE;

/// `window.__appHost`, present only inside a Forge Custom UI.
pub(crate) struct ForgeHost(JsValue);

pub(crate) fn host() -> Option<ForgeHost> {
    let window = web_sys::window()?;
    let host = Reflect::get(&window, &"__appHost".into()).ok()?;
    host.is_object().then_some(ForgeHost(host))
}

impl ForgeHost {
    #[cfg(not(feature = "ssr"))]
    fn text(&self, key: &str) -> String {
        Reflect::get(&self.0, &key.into()).ok().and_then(|v| v.as_string()).unwrap_or_default()
    }

    fn method(&self, name: &str) -> Option<Function> {
        Reflect::get(&self.0, &name.into()).ok()?.dyn_into().ok()
    }

    /// The module key of the page and the path Forge's history shows.
    #[cfg(not(feature = "ssr"))]
    pub(crate) fn start(&self) -> (String, String) {
        (self.text("moduleKey"), self.text("historyPath"))
    }

    /// `history.push` of the history Forge's `view.createHistory()` gave.
    pub(crate) fn push(&self, href: &str) {
        if let Some(push) = self.method("push") {
            let _ = push.call1(&self.0, &href.into());
        }
    }

    pub(crate) fn listen(&self, on_path: impl Fn(String) + 'static) {
        let Some(listen) = self.method("listen") else { return };
        let callback =
            Closure::<dyn Fn(JsValue)>::new(move |path: JsValue| on_path(path.as_string().unwrap_or_default()));
        let _ = listen.call1(&self.0, callback.as_ref());
        // Forge's history lives as long as the page.
        callback.forget();
    }

    /// The server-function request as `requestRemote(remote, { path, method,
    /// headers, body })`: the path and query are the app's, the origin is
    /// the remote's. Forge's host side adds the FIT.
    pub(crate) async fn send(&self, request: web_sys::Request) -> Result<web_sys::Response, String> {
        let url = web_sys::Url::new(&request.url()).map_err(transport)?;
        let path = format!("{}{}", url.pathname(), url.search());
        let body = JsFuture::from(request.text().map_err(transport)?).await.map_err(transport)?;
        let headers = Object::new();
        for name in ["content-type", "accept"] {
            if let Ok(Some(value)) = request.headers().get(name) {
                Reflect::set(&headers, &name.into(), &value.into()).map_err(transport)?;
            }
        }
        let init = Object::new();
        Reflect::set(&init, &"method".into(), &request.method().into()).map_err(transport)?;
        Reflect::set(&init, &"headers".into(), &headers).map_err(transport)?;
        Reflect::set(&init, &"body".into(), &body).map_err(transport)?;
        let request_remote = self.method("requestRemote").ok_or("no requestRemote on the host")?;
        let answer = request_remote.call3(&self.0, &FORGE_REMOTE.into(), &path.into(), &init).map_err(transport)?;
        let response = JsFuture::from(Promise::from(answer)).await.map_err(transport)?;
        response.dyn_into().map_err(transport)
    }
}

fn transport(e: JsValue) -> String {
    format!("{e:?}")
}
