//! Who you are and where: the verified identity, and your display name from
//! the host's REST API (fetched after the page loads, so it never slows it).

use leptos::{either::EitherOf3, prelude::*, task::spawn_local};

use super::{
    hydration::after_hydration,
    status::{ErrorBox, Loading},
};
use crate::api::me::{display_name, get_identity, rendered_identity};

#[component]
pub(crate) fn Overview() -> impl IntoView {
    // The identity comes with the page the server rendered (no resource, no
    // task: the server already holds it); a page the browser renders itself
    // asks for it, and so does a retry.
    let who = RwSignal::new(rendered_identity());
    let load = move || {
        who.set(None);
        spawn_local(async move { who.set(Some(get_identity().await)) });
    };
    if who.get_untracked().is_none() {
        load();
    }
    // Loaded in the browser after hydration, so the host's REST API never
    // slows the page down.
    let name = after_hydration(display_name);

    view! {
        <h1>"Overview"</h1>
        {move || match who.get() {
            None => EitherOf3::A(view! { <Loading what="your details"/> }),
            Some(Ok(who)) => EitherOf3::B(view! {
                <dl class="facts" id="identity">
                    <dt>"Signed in as"</dt>
                    <dd id="display-name">
                        {move || match name.get() {
                            None => "…".to_string(),
                            Some(Ok(Some(name))) => name,
                            Some(Ok(None)) => "(no display name)".to_string(),
                            Some(Err(_)) => "(display name unavailable)".to_string(),
                        }}
                    </dd>
                    <dt>"Account"</dt>
                    <dd id="account-id">{who.account_id.as_ref().map_or("anonymous".into(), ToString::to_string)}</dd>
                    <dt>"Site"</dt>
                    <dd id="site">{who.display_url.clone().unwrap_or_else(|| who.base_url.to_string())}</dd>
                    <dt>"Product"</dt>
                    <dd id="product">{who.product_type.clone()}</dd>
                </dl>
            }),
            Some(Err(error)) => EitherOf3::C(view! { <ErrorBox error retry=Callback::new(move |_| load())/> }),
        }}
    }
}
