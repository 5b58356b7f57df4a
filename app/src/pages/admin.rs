//! The admin page (`/admin`): this site's install status, for site
//! administrators. The server has already checked the caller is one.

use leptos::{either::Either, prelude::*};

use super::{
    hydration::hydrated,
    status::{ErrorBox, Loading, format_time},
};
use crate::api::{admin::get_install_status, types::InstallStatus};

#[component]
pub(crate) fn AdminPage() -> impl IntoView {
    let hydrated = hydrated();
    let status = Resource::new(|| (), |_| get_install_status());
    let retry = Callback::new(move |_| status.refetch());

    view! {
        <main class="page admin" data-hydrated=move || hydrated.get().to_string()>
            <h1>"Install status"</h1>
            <Suspense fallback=|| view! { <Loading what="the install status"/> }>
                {move || status.get().map(|result| match result {
                    Ok(status) => Either::Left(view! { <StatusView status/> }),
                    Err(error) => Either::Right(view! { <ErrorBox error retry/> }),
                })}
            </Suspense>
        </main>
    }
}

fn or_dash(value: Option<impl std::fmt::Display>) -> String {
    value.map_or_else(|| "–".into(), |value| value.to_string())
}

#[component]
fn StatusView(status: InstallStatus) -> impl IntoView {
    let database = if status.database_ok {
        format!("{} (healthy)", status.database)
    } else {
        format!("{} (unreachable)", status.database)
    };
    view! {
        <dl class="facts" id="install-status">
            <dt>"State"</dt><dd id="state">{status.state.clone()}</dd>
            <dt>"Product"</dt><dd>{status.product_type.clone()}</dd>
            <dt>"Site"</dt><dd>{status.base_url.to_string()}</dd>
            <dt>"First installed"</dt><dd>{format_time(status.first_installed_at)}</dd>
            <dt>"Last installed"</dt><dd>{format_time(status.last_installed_at)}</dd>
            <dt>"Last event"</dt><dd>{format_time(status.last_event_at)}</dd>
            <dt>"Install generation"</dt><dd id="generation">{status.install_generation}</dd>
            <dt>"Last install signed with"</dt><dd>{status.install_signature.clone()}</dd>
            <dt>"World"</dt><dd id="world">{status.world.clone()}</dd>
            <dt>"Forge installation"</dt><dd id="installation-id">{or_dash(status.installation_id.as_ref())}</dd>
            <dt>"Cloud id"</dt><dd id="cloud-id">{or_dash(status.cloud_id.as_ref())}</dd>
            <dt>"Forge system token held until"</dt>
            <dd id="system-token">{status.system_token_until.map(format_time).unwrap_or_else(|| "–".into())}</dd>
            <dt>"App version"</dt><dd>{status.app_version.clone()}</dd>
            <dt>"Database"</dt><dd id="database">{database}</dd>
        </dl>
        <h2>"Identities this installation has had"</h2>
        <table class="table" id="history">
            <thead><tr><th>"Kind"</th><th>"Value"</th><th>"First seen"</th><th>"Last seen"</th></tr></thead>
            <tbody>
                {status.history.into_iter().map(|h| view! {
                    <tr>
                        <td>{h.kind}</td><td>{h.value}</td>
                        <td>{format_time(h.first_seen)}</td><td>{format_time(h.last_seen)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        <h2>"Lifecycle events"</h2>
        <table class="table" id="events">
            <thead>
                <tr><th>"When"</th><th>"Event"</th><th>"Signature"</th><th>"Outcome"</th><th>"Detail"</th></tr>
            </thead>
            <tbody>
                {status.events.into_iter().map(|e| view! {
                    <tr>
                        <td>{format_time(e.occurred_at)}</td><td>{e.event}</td><td>{e.signature}</td>
                        <td>{e.outcome}</td><td>{e.detail.unwrap_or_default()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        <h2>"Earlier installations of this site"</h2>
        {if status.orphans.is_empty() {
            let none = "None: no site import has replaced this installation.";
            Either::Left(view! { <p class="muted" id="orphans">{none}</p> })
        } else {
            Either::Right(view! {
                <table class="table" id="orphans">
                    <thead><tr><th>"Client key"</th><th>"Replaced"</th><th>"Purged after"</th></tr></thead>
                    <tbody>
                        {status.orphans.into_iter().map(|o| view! {
                            <tr>
                                <td>{o.client_key}</td>
                                <td>{format_time(o.orphaned_at)}</td>
                                <td>{format_time(o.purge_at)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })
        }}
    }
}
