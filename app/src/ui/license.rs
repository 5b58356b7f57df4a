//! The licence notice: a site without an active licence for the app is told
//! so, and what a site admin can do. The server decides (`Caller::license`);
//! a Connect page is rendered as the notice alone on the server, and a page
//! the browser renders (a Forge Custom UI) shows it wherever a server
//! function answered `Unlicensed` (`status::ErrorBox`).

use leptos::prelude::*;

/// Whether the server rendered this page for an unlicensed site (read back
/// from the hydration data in the browser, so both render the same).
pub fn rendered_unlicensed() -> bool {
    SharedValue::new(|| {
        #[cfg(feature = "ssr")]
        return crate::api::backend::rendering_unlicensed();
        #[cfg(not(feature = "ssr"))]
        false
    })
    .into_inner()
}

const WHY: &str =
    "This site has no active licence for the app: its trial or subscription has ended, or it was never bought.";
const KEPT: &str = "Nothing is lost meanwhile: what your team saved comes back as soon as the licence is active.";

/// The whole page of an unlicensed site (status 403).
#[component]
pub fn LicenseScreen() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::FORBIDDEN);
    }
    view! { <main class="page"><LicenseNotice/></main> }
}

/// What the site's users are told, and what a site admin can do.
#[component]
pub fn LicenseNotice() -> impl IntoView {
    view! {
        <section class="card" id="no-license">
            <h2>"No active licence"</h2>
            <p>{WHY}</p>
            <p>"A site admin can buy or renew it: in Jira, " <strong>"Apps → Manage your apps"</strong>
                "; in Confluence, " <strong>"Settings → Manage apps"</strong> ". Find the app there and choose "
                <strong>"Buy now"</strong> " or " <strong>"Renew"</strong> "."</p>
            <p class="muted">{KEPT}</p>
        </section>
    }
}
