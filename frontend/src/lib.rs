//! Browser entry points of the one bundle both worlds load. Connect:
//! `hydrate` takes the session token the server rendered, then hydrates the
//! HTML the server rendered. Forge: `mount_forge` renders the same app in
//! the browser, inside a Custom UI whose boot script has set up the bridge.

// Leptos view types nest deeply; the wasm build needs more room to lay them out.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // An iframe page: keep its session alive, fit the frame to the content, wear the product's theme.
    if app::api::renewal::adopt_page_token() {
        app::api::ap_bridge::fit_frame_to_content();
        app::api::ap_bridge::initialize_theming();
    }
    leptos::mount::hydrate_body(app::App);
    mark("hydrated");
}

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn mount_forge() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
    mark("rendered");
}

/// For real-user and lab timing (the bench's time to hydrated reads it).
fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark(name);
    }
}
