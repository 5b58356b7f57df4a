//! Which page a path shows, and the client-side navigation between the
//! general page's tabs. The app has six fixed paths and four links, so a
//! path signal and `history.pushState` do what `leptos_router` did, without
//! its fifth of the bundle and without its route-list generation, which
//! parks any resource first polled while it runs (leptos#4773).

use leptos::prelude::*;

/// Every page the app renders. The server declares a proof for each path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    Home,
    Overview,
    Notes,    // demo
    Activity, // demo
    Help,
    Admin,
    /// A page of the vendor's (`crate::vendor::PAGES`, by its place in the list).
    Vendor(usize),
    NotFound,
}

impl Page {
    /// Each rendered page with its path.
    pub const ROUTES: &[(&'static str, Page)] = &[
        ("/", Page::Home),
        ("/app", Page::Overview),
        ("/app/notes", Page::Notes),       // demo
        ("/app/activity", Page::Activity), // demo
        ("/app/help", Page::Help),
        ("/admin", Page::Admin),
    ];

    pub fn at(path: &str) -> Page {
        if let Some((_, page)) = Self::ROUTES.iter().find(|(p, _)| *p == path) {
            return *page;
        }
        crate::vendor::PAGES.iter().position(|p| p.path == path).map_or(Page::NotFound, Page::Vendor)
    }

    /// Every path a page renders at: the house's, then the vendor's.
    pub fn paths() -> impl Iterator<Item = &'static str> {
        Self::ROUTES.iter().map(|(path, _)| *path).chain(crate::vendor::PAGES.iter().map(|p| p.path))
    }

    /// A tab of the general page (`/app` and below).
    pub fn in_app_shell(self) -> bool {
        // demo:begin
        matches!(self, Page::Overview | Page::Notes | Page::Activity | Page::Help | Page::Vendor(_))
        // demo:end
        // no-demo: matches!(self, Page::Overview | Page::Help | Page::Vendor(_))
    }
}

/// The path the page shows: the request's on the server, the location's in
/// the browser, then each tab followed or history step.
#[derive(Clone, Copy)]
pub(crate) struct CurrentPath(RwSignal<String>);

impl CurrentPath {
    pub(crate) fn get(self) -> String {
        self.0.get()
    }

    pub(crate) fn get_untracked(self) -> String {
        self.0.get_untracked()
    }
}

/// Starts the current path for this render and keeps it in step with the
/// browser's back and forward buttons.
pub(crate) fn provide_current_path() -> CurrentPath {
    let path = CurrentPath(RwSignal::new(initial_path()));
    #[cfg(feature = "hydrate")]
    crate::host::follow_history(move |p| path.0.set(p));
    provide_context(path);
    path
}

pub(crate) fn current_path() -> CurrentPath {
    use_context::<CurrentPath>().unwrap_or_else(provide_current_path)
}

#[cfg(feature = "ssr")]
fn initial_path() -> String {
    use_context::<http::request::Parts>().map(|parts| parts.uri.path().to_string()).unwrap_or_default()
}

#[cfg(not(feature = "ssr"))]
fn initial_path() -> String {
    match crate::host::forge_start() {
        Some((module, history_path)) => forge_start_path(&module, &history_path).to_string(),
        None => web_sys::window().and_then(|w| w.location().pathname().ok()).unwrap_or_default(),
    }
}

/// The page a Forge module shows first: the admin module its admin page,
/// the global page the tab its history names (the general page if none).
pub fn forge_start_path(module_key: &str, history_path: &str) -> &'static str {
    if module_key == crate::host::FORGE_ADMIN_PAGE {
        return "/admin";
    }
    Page::paths().find(|path| *path == history_path && Page::at(path).in_app_shell()).unwrap_or("/app")
}

/// A link to another tab: a plain click stays in the page (the session and
/// the host's context live in it), anything else (a new tab, a modifier key)
/// is left to the browser.
pub(crate) fn follow_link(event: leptos::ev::MouseEvent, href: &'static str) {
    let modified = event.button() != 0 || event.ctrl_key() || event.meta_key() || event.shift_key() || event.alt_key();
    if modified || event.default_prevented() {
        return;
    }
    event.prevent_default();
    crate::host::push(href);
    current_path().0.set(href.to_string());
    if let Some(window) = web_sys::window() {
        window.scroll_to_with_x_and_y(0.0, 0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::{Page, forge_start_path};
    use crate::host::{FORGE_ADMIN_PAGE, FORGE_GLOBAL_PAGE};

    #[test]
    fn each_forge_module_starts_on_its_page() {
        assert_eq!(forge_start_path(FORGE_ADMIN_PAGE, "/app/help"), "/admin");
        assert_eq!(forge_start_path(FORGE_GLOBAL_PAGE, "/"), "/app");
        assert_eq!(forge_start_path(FORGE_GLOBAL_PAGE, "/app/help"), "/app/help");
        assert_eq!(forge_start_path(FORGE_GLOBAL_PAGE, "/app/activity"), "/app/activity"); // demo
        // The global page never opens the admin page, whatever its history says.
        assert_eq!(forge_start_path(FORGE_GLOBAL_PAGE, "/admin"), "/app");
        assert_eq!(forge_start_path(FORGE_GLOBAL_PAGE, "/elsewhere"), "/app");
    }

    #[test]
    fn each_path_shows_its_page_and_nothing_else_matches() {
        assert_eq!(Page::at("/"), Page::Home);
        assert_eq!(Page::at("/app"), Page::Overview);
        assert_eq!(Page::at("/app/notes"), Page::Notes); // demo
        assert_eq!(Page::at("/admin"), Page::Admin);
        for other in ["", "/app/", "/app/help/", "/APP", "/app/nothing", "/admin/x"] {
            assert_eq!(Page::at(other), Page::NotFound, "{other:?}");
        }
        assert!(Page::Help.in_app_shell() && !Page::Admin.in_app_shell() && !Page::NotFound.in_app_shell());
    }
}
