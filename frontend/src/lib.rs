//! Browser entry: takes the session token the server rendered, then
//! hydrates the HTML the server rendered.

// Leptos view types nest deeply; the wasm build needs more room to lay them out.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // An iframe page: keep its session alive and fit the frame to the content.
    if app::api::renewal::adopt_page_token() {
        app::api::ap_bridge::fit_frame_to_content();
    }
    leptos::mount::hydrate_body(app::App);
    // For real-user and lab timing (the bench's time to hydrated reads it).
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark("hydrated");
    }
}
