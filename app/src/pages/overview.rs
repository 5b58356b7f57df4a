//! Who you are and where: the verified identity, and your display name from
//! the host's REST API (fetched after the page loads, so it never slows it).

use leptos::{either::Either, prelude::*};

use super::{
    hydration::after_hydration,
    status::{ErrorBox, Loading},
};
use crate::api::me::{display_name, get_identity};

#[component]
pub(crate) fn Overview() -> impl IntoView {
    let who = Resource::new(|| (), |_| get_identity());
    // Loaded in the browser after hydration, so the host's REST API never
    // slows the page down; a plain signal, so it never holds the Suspense back.
    let name = after_hydration(display_name);

    view! {
        <h1>"Overview"</h1>
        <Suspense fallback=|| view! { <Loading what="your details"/> }>
            {move || who.get().map(|result| match result {
                Ok(who) => Either::Left(view! {
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
                        <dd id="account-id">{who.account_id.clone().unwrap_or_else(|| "anonymous".into())}</dd>
                        <dt>"Site"</dt>
                        <dd id="site">{who.display_url.clone().unwrap_or(who.base_url.clone())}</dd>
                        <dt>"Product"</dt>
                        <dd id="product">{who.product_type.clone()}</dd>
                    </dl>
                }),
                Err(error) => Either::Right(view! { <ErrorBox error retry=Callback::new(move |_| who.refetch())/> }),
            })}
        </Suspense>
    }
}
