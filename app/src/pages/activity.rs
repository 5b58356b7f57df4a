//! The site's recent product events (issues and pages created, updated,
//! commented), newest first, as the app's webhook handler recorded them.

use leptos::{either::EitherOf3, prelude::*};

use super::status::{ErrorBox, Loading, format_time};
use crate::api::activity::list_activity;

#[component]
pub(crate) fn ActivityView() -> impl IntoView {
    let events = Resource::new(|| (), |_| list_activity());
    let retry = Callback::new(move |_| events.refetch());
    view! {
        <h1>"Activity"</h1>
        <p><button class="button" id="refresh-activity" on:click=move |_| events.refetch()>"Refresh"</button></p>
        <Transition fallback=|| view! { <Loading what="the site's activity"/> }>
            {move || events.get().map(|result| match result {
                Err(error) => EitherOf3::A(view! { <ErrorBox error retry/> }),
                Ok(list) if list.is_empty() => EitherOf3::B(view! {
                    <p class="muted" id="no-activity">"Nothing has happened on this site yet."</p>
                }),
                Ok(list) => EitherOf3::C(view! {
                    <ul class="activity" id="activity">
                        {list.into_iter().map(|e| view! {
                            <li class="activity-item" data-delivery=e.delivery_id.clone()>
                                <span class="muted">{format_time(e.processed_at)}</span>" "{e.summary}
                            </li>
                        }).collect_view()}
                    </ul>
                }),
            })}
        </Transition>
    }
}
