//! Which product frame the page lives in, and the few things that differ
//! between the two: how a server function reaches the app, where the page
//! starts, how it moves between tabs. Under Connect the server rendered the
//! page into Atlassian's iframe, `all.js` is the bridge and the session token
//! the credential ([`crate::api::client`]). Under Forge the page is a Custom
//! UI that Forge serves as static files, and `@forge/bridge` carries every
//! call with a FIT ([`forge`]). Pages call these functions and never ask
//! which world they are in.

#[cfg(feature = "hydrate")]
pub(crate) mod forge;

/// The remote (manifest `remotes[].key`) the page's calls go to: the app's
/// backend, in the manifests that declare the Custom UI (migrated and
/// Forge-native; Connect-on-Forge keeps Connect's pages and its `connect` remote).
pub const FORGE_REMOTE: &str = "remote-backend";
/// The Custom UI modules that show the page, as the manifest keys them.
pub const FORGE_GLOBAL_PAGE: &str = "notes-page";
pub const FORGE_ADMIN_PAGE: &str = "notes-admin";

/// The Forge module the page was opened as, and the path Forge's history
/// shows, when the page is a Custom UI (the router picks the page from them).
#[cfg(not(feature = "ssr"))]
pub(crate) fn forge_start() -> Option<(String, String)> {
    #[cfg(feature = "hydrate")]
    if let Some(forge) = forge::host() {
        return Some(forge.start());
    }
    None
}

/// Shows `href` in the host's history: Forge's, or the frame's own.
pub(crate) fn push(href: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(forge) = forge::host() {
        forge.push(href);
        return;
    }
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(href));
    }
}

/// Calls `on_path` with each path the host's back and forward buttons show.
#[cfg(feature = "hydrate")]
pub(crate) fn follow_history(on_path: impl Fn(String) + 'static) {
    use leptos::prelude::*;
    if let Some(forge) = forge::host() {
        forge.listen(on_path);
        return;
    }
    let handle = window_event_listener(leptos::ev::popstate, move |_| {
        on_path(web_sys::window().and_then(|w| w.location().pathname().ok()).unwrap_or_default())
    });
    on_cleanup(move || handle.remove());
}
