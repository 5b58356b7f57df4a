//! The page for any path no route claims.

use leptos::prelude::*;

#[component]
pub(crate) fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <main class="page">
            <h1>"Not found"</h1>
            <p>"There is nothing at this address."</p>
        </main>
    }
}
