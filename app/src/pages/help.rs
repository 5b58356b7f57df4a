//! What the app does, for the people using it.

use leptos::prelude::*;

#[component]
pub(crate) fn Help() -> impl IntoView {
    view! {
        <h1>"Help"</h1>
        <section class="card" id="help">
            // demo:begin
            <p>
                "Team notes are shared by everyone on this site. "
                "Anyone can read them; only the author can change or delete a note."
            </p>
            // demo:end
            <p>"Site administrators find the app's install status under the app's administration page."</p>
            <p class="muted">"Your session renews itself while the page is open; nothing is stored in cookies."</p>
        </section>
    }
}
