//! The app's user interface: the HTML shell, the client-side routes and the
//! server-function signatures. Compiled twice: natively with `ssr` for the
//! server, and to wasm with `hydrate` for the browser.

pub mod api;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    StaticSegment,
    components::{Route, Router, Routes},
};

/// The wasm/JS bundle name under `/pkg`; the xtask and cargo-leptos both write it.
pub const OUTPUT_NAME: &str = "frontend";

/// The whole HTML document rendered on the server around [`App`].
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/frontend.css"/>
        <Title text="Connect app"/>
        <Router>
            <Routes fallback=pages::not_found::NotFound>
                <Route path=StaticSegment("") view=pages::home::HomePage/>
            </Routes>
        </Router>
    }
}
