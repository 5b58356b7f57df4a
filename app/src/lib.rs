//! The app's user interface: the HTML shell, the client-side routes and the
//! server-function signatures. Compiled twice: natively with `ssr` for the
//! server, and to wasm with `hydrate` for the browser.

pub mod api;
pub mod bundle;
pub mod host;
pub mod pages;
pub mod router;
pub mod ui;
pub mod vendor;

use leptos::{either::EitherOf5, prelude::*};
use router::Page;

/// The wasm/JS bundle name under `/pkg`; the xtask and cargo-leptos both write it.
pub const OUTPUT_NAME: &str = "frontend";

/// The whole HTML document rendered on the server around [`App`]. Only the
/// body hydrates, so the head may carry per-request data: on a verified
/// iframe page, the session token (ACE's `<meta name="token">` convention)
/// and Atlassian's `all.js`. Title and stylesheet are the same on every page,
/// so they are written here rather than through `leptos_meta`, whose context
/// cost every render time and the bundle bytes.
pub fn shell(scripts: std::sync::Arc<bundle::BundleScripts>) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let session = api::backend::page_session();
    #[cfg(not(feature = "ssr"))]
    let session: Option<()> = None;
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <title>"Connect app"</title>
                <link rel="stylesheet" id="leptos" href="/pkg/frontend.css"/>
                {session_head(session)}
                <bundle::BundleTags scripts/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The page at the request's path. Which page it is never changes without
/// a full load; the general page's tabs switch inside [`pages::app_shell`].
#[component]
pub fn App() -> impl IntoView {
    let path = router::provide_current_path();
    let unlicensed = ui::license::rendered_unlicensed();
    // `Either`s rather than `into_any`: an `AnyView` keeps every view's
    // async-hydration code in the bundle through its function pointers.
    match Page::at(&path.get_untracked()) {
        _ if unlicensed => EitherOf5::E(view! { <ui::license::LicenseScreen/> }),
        Page::Home => EitherOf5::A(view! { <pages::home::HomePage/> }),
        Page::Admin => EitherOf5::B(view! { <pages::admin::AdminPage/> }),
        page if page.in_app_shell() => EitherOf5::C(view! { <pages::app_shell::AppShell/> }),
        _ => EitherOf5::D(view! { <pages::not_found::NotFound/> }),
    }
}

#[cfg(feature = "ssr")]
fn session_head(session: Option<api::backend::PageSession>) -> impl IntoView {
    session.map(|s| {
        view! {
            <meta name="token" content=s.token/>
            <meta name="token-expires-in" content=s.expires_in.to_string()/>
            <script src=s.all_js_url></script>
        }
    })
}

#[cfg(not(feature = "ssr"))]
fn session_head(_session: Option<()>) -> impl IntoView {}
