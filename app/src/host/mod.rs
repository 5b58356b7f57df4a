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

use crate::router::Page;

/// The remote (manifest `remotes[].key`) the page's calls go to.
pub const FORGE_REMOTE: &str = "connect";
/// The Custom UI modules that show the page, as the manifest keys them.
pub const FORGE_GLOBAL_PAGE: &str = "notes-page";
pub const FORGE_ADMIN_PAGE: &str = "notes-admin";

/// The page a Forge module shows first: the admin module its admin page,
/// the global page the tab its history names (the general page if none).
pub fn forge_start_path(module_key: &str, history_path: &str) -> &'static str {
    if module_key == FORGE_ADMIN_PAGE {
        return "/admin";
    }
    Page::ROUTES
        .iter()
        .find(|(path, page)| *path == history_path && page.in_app_shell())
        .map_or("/app", |(path, _)| path)
}

/// Where the page starts when the host says so (Forge: by module), else `None`.
#[cfg(not(feature = "ssr"))]
pub(crate) fn start_path() -> Option<String> {
    #[cfg(feature = "hydrate")]
    if let Some(forge) = forge::host() {
        return Some(forge.start_path());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_forge_module_starts_on_its_page() {
        assert_eq!(forge_start_path(FORGE_ADMIN_PAGE, "/app/notes"), "/admin");
        assert_eq!(forge_start_path(FORGE_GLOBAL_PAGE, "/"), "/app");
        assert_eq!(forge_start_path(FORGE_GLOBAL_PAGE, "/app/notes"), "/app/notes");
        assert_eq!(forge_start_path(FORGE_GLOBAL_PAGE, "/app/activity"), "/app/activity");
        // The global page never opens the admin page, whatever its history says.
        assert_eq!(forge_start_path(FORGE_GLOBAL_PAGE, "/admin"), "/app");
        assert_eq!(forge_start_path(FORGE_GLOBAL_PAGE, "/elsewhere"), "/app");
    }
}
