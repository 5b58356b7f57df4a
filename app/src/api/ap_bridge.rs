//! The `AP` bridge (compiled with `hydrate` only): the calls the page makes
//! into Atlassian's client library `all.js`, which talks to the host frame:
//! `AP.context.getToken()` for a context JWT, and `AP.resize()` to fit the
//! iframe to the content. Knows nothing of sessions.

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use wasm_bindgen_futures::JsFuture;

/// How long the host gets to answer `getToken`.
const GET_TOKEN_TIMEOUT_MS: i32 = 10_000;

/// `AP.context.getToken()`, as a future; `None` if `AP` is missing, the
/// host does not answer in time, or answers with nothing.
pub(crate) async fn context_token() -> Option<String> {
    let context = ap_member(&["context"])?;
    let get_token: Function = Reflect::get(&context, &"getToken".into()).ok()?.dyn_into().ok()?;
    let answer = Promise::new(&mut |resolve, reject| {
        let callback = Closure::once_into_js(move |token: JsValue| {
            let _ = resolve.call1(&JsValue::NULL, &token);
        });
        if let Err(e) = get_token.call1(&context, &callback) {
            let _ = reject.call1(&JsValue::NULL, &e);
        }
    });
    let timeout = Promise::new(&mut |_resolve, reject| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&reject, GET_TOKEN_TIMEOUT_MS);
        }
    });
    let race = Promise::race(&js_sys::Array::of2(&answer, &timeout));
    let token = JsFuture::from(race).await.ok()?;
    token.as_string().filter(|t| !t.is_empty())
}

/// Asks the host to fit the iframe whenever the page's size changes.
pub fn fit_frame_to_content() {
    let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) else { return };
    let on_resize = Closure::<dyn FnMut()>::new(resize);
    if let Ok(observer) = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()) {
        observer.observe(&body);
        // The observer lives as long as the page.
        std::mem::forget(observer);
        on_resize.forget();
    }
    resize();
}

/// Asks the host to fit the iframe to the content, if `AP` is there.
pub(crate) fn resize() {
    let Some(ap) = ap_member(&[]) else { return };
    if let Some(resize) = Reflect::get(&ap, &"resize".into()).ok().and_then(|f| f.dyn_into::<Function>().ok()) {
        let _ = resize.call0(&ap);
    }
}

/// `AP.theming.initializeTheming()`: the host sets `data-color-mode` and
/// its design tokens on the page, and keeps them in step with the product.
pub fn initialize_theming() {
    let Some(theming) = ap_member(&["theming"]) else { return };
    let start = Reflect::get(&theming, &"initializeTheming".into()).ok().and_then(|f| f.dyn_into::<Function>().ok());
    if let Some(start) = start {
        let _ = start.call0(&theming);
    }
}

/// `window.AP` or a member path below it, when all.js has loaded.
fn ap_member(path: &[&str]) -> Option<JsValue> {
    let window = web_sys::window()?;
    let mut value = Reflect::get(&window, &"AP".into()).ok()?;
    for key in path {
        value = Reflect::get(&value, &(*key).into()).ok()?;
    }
    (!value.is_undefined() && !value.is_null()).then_some(value)
}
