//! The licence gate: a site without an active licence for the app sees one
//! screen that says so and what a site admin can do, in place of any page.
//! The server decides (`Caller::license`); the page shows its verdict: a
//! Connect page is rendered closed on the server, a Forge page (rendered in
//! the browser) closes when a server function answers `Unlicensed`.

use leptos::prelude::*;

/// Whether the licence screen stands in for the page.
#[derive(Clone, Copy)]
pub struct LicenseGate(RwSignal<bool>);

impl LicenseGate {
    pub fn is_closed(self) -> bool {
        self.0.get()
    }

    /// A server function said the site is unlicensed.
    pub fn close(self) {
        if !self.0.get_untracked() {
            self.0.set(true);
        }
    }
}

/// Starts the gate closed when the server rendered the page for an
/// unlicensed site, and the same in the browser (from the hydration data).
pub fn provide_license_gate() -> LicenseGate {
    let closed = SharedValue::new(|| {
        #[cfg(feature = "ssr")]
        return crate::api::backend::rendering_unlicensed();
        #[cfg(not(feature = "ssr"))]
        false
    })
    .into_inner();
    let gate = LicenseGate(RwSignal::new(closed));
    provide_context(gate);
    gate
}

/// Closes the page's gate, if it has one (a page rendered outside `App` has none).
pub fn close_license_gate() {
    if let Some(gate) = use_context::<LicenseGate>() {
        gate.close();
    }
}

const WHY: &str =
    "This site has no active licence for the app: its trial or subscription has ended, or it was never bought.";
const KEPT: &str = "Nothing is lost meanwhile: what your team saved comes back as soon as the licence is active.";

#[component]
pub fn LicenseScreen() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::FORBIDDEN);
    }
    view! {
        <main class="page" id="no-license">
            <h1>"No active licence"</h1>
            <section class="card">
                <p>{WHY}</p>
                <p>"A site admin can buy or renew it: in Jira, " <strong>"Apps → Manage your apps"</strong>
                    "; in Confluence, " <strong>"Settings → Manage apps"</strong> ". Find the app there and choose "
                    <strong>"Buy now"</strong> " or " <strong>"Renew"</strong> "."</p>
                <p class="muted">{KEPT}</p>
            </section>
        </main>
    }
}
