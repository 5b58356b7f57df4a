//! Session renewal in the browser (compiled with `hydrate` only): read the
//! token the server rendered into `<meta name="token">`, ask Atlassian's
//! `AP.context.getToken()` for a context JWT when the session nears its end
//! or was refused, and exchange it for a new session token.

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use wasm_bindgen_futures::JsFuture;

use super::{client, error::ApiError, session::renew_session};

/// Renew this long before expiry (or at 3/4 of a short lifetime).
const MARGIN_SECS: i64 = 60;

/// Takes the session token from the page into memory, once, at start.
pub fn adopt_page_token() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    let meta = |name: &str| {
        document
            .query_selector(&format!("meta[name=\"{name}\"]"))
            .ok()
            .flatten()
            .and_then(|el| el.get_attribute("content"))
    };
    if let (Some(token), Some(expires_at)) = (meta("token"), meta("token-expires-at")) {
        client::set_session(token, expires_at.parse().unwrap_or_default());
        schedule();
    }
}

pub fn now() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// True when the session ends within the renewal margin.
pub fn expires_soon() -> bool {
    let expires_at = client::session_expires_at();
    expires_at > 0 && now() + margin(expires_at) >= expires_at
}

fn margin(expires_at: i64) -> i64 {
    let lifetime = (expires_at - now()).max(0);
    MARGIN_SECS.min(lifetime / 4).max(1)
}

/// Exchanges a fresh context JWT for a new session token.
pub async fn renew() -> Result<(), ApiError> {
    let context_token = context_token().await?;
    let grant = client::exchanging(context_token, renew_session()).await?;
    client::set_session(grant.token, grant.expires_at);
    schedule();
    Ok(())
}

/// Renews shortly before the current session ends.
fn schedule() {
    let expires_at = client::session_expires_at();
    let wait = (expires_at - now() - margin(expires_at)).max(1);
    leptos::prelude::set_timeout(
        || leptos::task::spawn_local(async {
            if expires_soon() {
                let _ = renew().await;
            }
        }),
        std::time::Duration::from_secs(wait as u64),
    );
}

/// `AP.context.getToken()`, as a future.
async fn context_token() -> Result<String, ApiError> {
    let unavailable = || ApiError::Unauthorized;
    let context = ap_member(&["context"]).ok_or_else(unavailable)?;
    let get_token: Function = Reflect::get(&context, &"getToken".into()).ok().and_then(|f| f.dyn_into().ok()).ok_or_else(unavailable)?;
    let promise = Promise::new(&mut |resolve, _reject| {
        let callback = Closure::once_into_js(move |token: JsValue| {
            let _ = resolve.call1(&JsValue::NULL, &token);
        });
        let _ = get_token.call1(&context, &callback);
    });
    let token = JsFuture::from(promise).await.map_err(|_| unavailable())?;
    token.as_string().filter(|t| !t.is_empty()).ok_or_else(unavailable)
}

/// Asks the host to fit the iframe to the content, if `AP` is there.
pub fn resize() {
    let Some(ap) = ap_member(&[]) else { return };
    if let Some(resize) = Reflect::get(&ap, &"resize".into()).ok().and_then(|f| f.dyn_into::<Function>().ok()) {
        let _ = resize.call0(&ap);
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
