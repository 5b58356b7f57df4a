//! The console's pages: installations (search), one installation with its
//! lifecycle log, orphans with their purge dates (purge one now), and the
//! encryption key ids in use. Never a secret.

use axum::{
    Form,
    extract::{Path, Query, State},
    response::{Html, Redirect},
};
use ids::{ClientKey, TenantId};
use serde::Deserialize;
use tower_sessions::Session;

use super::{
    html::{escape, page, row, table, time},
    session::{self, Operator},
};
use crate::{
    error::{ConsoleError, Error},
    lifecycle_hooks::{TenantChange, TenantEvent},
    maintenance,
    state::AppState,
    store::{Tenant, event_log, forge_tokens, identities, installations},
    tenant::{ConnectPart, Product},
};

type Page = Result<Html<String>, ConsoleError>;

#[derive(Deserialize)]
pub(crate) struct Search {
    #[serde(default)]
    q: String,
}

pub(crate) async fn list(op: Operator, State(state): State<AppState>, Query(search): Query<Search>) -> Page {
    let all = installations::list(&state.db).await?;
    let q = search.q.trim().to_ascii_lowercase();
    let matches = |i: &&Tenant| {
        q.is_empty()
            || i.name().to_ascii_lowercase().contains(&q)
            || i.tenant_id.as_str().contains(&q)
            || i.site.base_url.to_ascii_lowercase().contains(&q)
    };
    let rows: String = all
        .iter()
        .filter(matches)
        .map(|i| {
            let link = format!(
                r#"<a href="/console/installations/{}">{}</a>"#,
                escape(&url_segment(i.tenant_id.as_str())),
                escape(i.name())
            );
            row(&[
                link,
                escape(&i.site.base_url),
                escape(product(i)),
                state_label(&state, i),
                time(Some(i.last_event_at)),
                i.install_generation.to_string(),
            ])
        })
        .collect();
    let headings = ["Tenant", "Base URL", "Product", "State", "Last event", "Generation"];
    let body = format!(
        r#"<form method="get" action="/console" class="search">
<input name="q" id="q" value="{q}" placeholder="clientKey, tenant id or base URL">
<button class="button">Search</button></form>
{table}"#,
        q = escape(&search.q),
        table = table("installations", &headings, &rows)
    );
    render(&op, "Installations", &body)
}

pub(crate) async fn detail(op: Operator, State(state): State<AppState>, Path(tenant): Path<String>) -> Page {
    let installation = find_tenant(&state, &tenant).await?;
    let tenant_id = &installation.tenant_id;
    let events = event_log::for_tenant(&state.db, tenant_id, 100).await?;
    // When the held token runs out and where it came from, never the token.
    let token = forge_tokens::find(&state.db, tenant_id).await?;
    let system_token = token.as_ref().map_or_else(
        || "–".to_string(),
        |t| {
            format!(
                "{} (received {} for {})",
                time(Some(t.expires_at)),
                time(Some(t.updated_at)),
                escape(&t.installation_id)
            )
        },
    );
    let api_check = token
        .as_ref()
        .and_then(|t| Some((t.api_checked_at?, t.api_check.clone()?)))
        .map_or_else(|| "–".to_string(), |(at, outcome)| format!("{} at {}", escape(&outcome), time(Some(at))));
    let history: String = identities::history(&state.db, tenant_id)
        .await?
        .iter()
        .map(|h| row(&[escape(h.kind.as_str()), escape(&h.value), time(Some(h.first_seen)), time(Some(h.last_seen))]))
        .collect();
    let log: String = events
        .iter()
        .map(|e| {
            row(&[
                time(Some(e.occurred_at)),
                escape(&e.event),
                escape(e.signature.as_str()),
                escape(e.outcome.as_str()),
                escape(e.detail.as_deref().unwrap_or("")),
            ])
        })
        .collect();
    let (i, connect) = (&installation, installation.connect.as_ref());
    let of_connect = |field: fn(&ConnectPart) -> Option<&str>| escape(connect.and_then(field).unwrap_or("–"));
    let facts = [
        ("Tenant id", escape(i.tenant_id.as_str())),
        ("Client key", escape(i.client_key().map_or("– (born on Forge)", |k| k.as_str()))),
        ("Base URL", escape(&i.site.base_url)),
        ("Display URL", escape(i.site.display_url.as_deref().unwrap_or("–"))),
        ("Product", escape(product(i))),
        ("Description", escape(i.site.description.as_deref().unwrap_or("–"))),
        ("App key", of_connect(|c| c.app_key.as_deref())),
        ("State", state_label(&state, i)),
        ("Install generation", i.install_generation.to_string()),
        ("Last install signed with", escape(i.install_signature.as_str())),
        ("World", i.world().to_string()),
        ("Tenant id (Forge)", escape(i.installation_id().map_or("–", |id| id.as_str()))),
        ("Cloud id", escape(i.site.cloud_id.as_deref().unwrap_or("–"))),
        ("Forge environment", escape(&environment(i))),
        ("Forge system token held until", system_token),
        ("Product API as the app", api_check),
        ("OAuth client id", of_connect(|c| c.oauth_client_id.as_deref())),
        ("Entitlement", of_connect(|c| c.service_entitlement_number.as_deref())),
        ("Secret sealed with key", escape(connect.map_or("– (no Connect secret)", |c| c.secret.key_id.as_str()))),
        ("First installed", time(Some(i.first_installed_at))),
        ("Last installed", time(Some(i.last_installed_at))),
        ("Last event", time(Some(i.last_event_at))),
        ("Last reached by Forge", time(i.forge_reached_at)),
        ("Uninstalled", time(i.uninstalled_at)),
        ("Given up on (Forge silent)", time(i.given_up_at)),
        ("Orphaned", time(i.orphaned_at)),
    ];
    let dl: String = facts.iter().map(|(k, v)| format!("<dt>{k}</dt><dd>{v}</dd>")).collect();
    let log = table("events", &["When", "Event", "Signature", "Outcome", "Detail"], &log);
    let history = table("history", &["Kind", "Value", "First seen", "Last seen"], &history);
    let body = format!(
        r#"<dl class="facts" id="installation">{dl}</dl><h2>Identities</h2>{history}<h2>Lifecycle log</h2>{log}"#
    );
    render(&op, "Tenant", &body)
}

pub(crate) async fn orphans(op: Operator, State(state): State<AppState>) -> Page {
    let retention = state.config.retention.keep.as_secs() as i64;
    let all = installations::list(&state.db).await?;
    let rows: String = all
        .iter()
        .filter_map(|i| i.orphaned_at.or(i.uninstalled_at).map(|since| (i, since)))
        .map(|(i, since)| {
            let purge = format!(
                r#"<form method="post" action="/console/orphans/{}/purge" class="inline">
<input type="hidden" name="csrf" value="{}"><button class="button danger purge">Purge now</button></form>"#,
                escape(&url_segment(i.tenant_id.as_str())),
                escape(&op.csrf)
            );
            row(&[
                escape(i.name()),
                escape(&i.site.base_url),
                state_label(&state, i),
                time(Some(since)),
                time(Some(since + retention)),
                purge,
            ])
        })
        .collect();
    let headings = ["Tenant", "Base URL", "State", "Inactive since", "Purge after", ""];
    let body = format!(
        r#"<p class="muted">Orphaned (replaced by a site import) and uninstalled installations are purged with their
data {days} days after they became inactive.</p>{table}"#,
        days = retention / 86_400,
        table = table("orphans", &headings, &rows)
    );
    render(&op, "Orphans", &body)
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    pub(crate) csrf: String,
}

pub(crate) async fn purge_now(
    op: Operator,
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Redirect, ConsoleError> {
    if !session::csrf_matches(&session, &form.csrf).await {
        return Err(Error::Forbidden.into());
    }
    let found = find_tenant(&state, &tenant).await?;
    let tenant_id = found.tenant_id;
    if !maintenance::purge_now(&state.db, &tenant_id, state.clock.now()).await? {
        return Err(Error::BadRequest("only an orphaned or uninstalled installation can be purged".into()).into());
    }
    state.hooks.fire(TenantEvent {
        change: TenantChange::Purged,
        tenant_id: tenant_id.clone(),
        base_url: found.site.base_url,
    });
    tracing::info!(operator = %op.name, tenant_id = %tenant_id, "purged by an operator");
    Ok(Redirect::to("/console/orphans"))
}

pub(crate) async fn keys(op: Operator, State(state): State<AppState>) -> Page {
    let in_use = installations::key_ids_in_use(&state.db).await?;
    let primary = state.keyring.primary().id().to_string();
    let configured = state.keyring.ids();
    let rows: String = in_use
        .iter()
        .map(|(id, count)| {
            let role = if *id == primary {
                "primary (seals new secrets)"
            } else if configured.contains(&id.as_str()) {
                "previous (opens only; run server rotate-key)"
            } else {
                "not configured: these rows cannot be opened"
            };
            row(&[escape(id), count.to_string(), role.to_string()])
        })
        .collect();
    let body = format!(
        r#"{}<p class="muted">Key ids are derived from the keys; the keys themselves never leave the
configuration.</p>"#,
        table("keys", &["Key id", "Installations", "Role"], &rows)
    );
    render(&op, "Encryption keys", &body)
}

fn render(op: &Operator, title: &str, body: &str) -> Page {
    Ok(Html(page(title, Some((&op.name, &op.csrf)), body)))
}

fn state_label(state: &AppState, i: &Tenant) -> String {
    escape(&i.state_label(state.clock.now(), &state.config.forge.silence))
}

/// The tenant a console URL names: by its tenant id, or by its clientKey.
async fn find_tenant(state: &AppState, key: &str) -> Result<Tenant, Error> {
    if let Some(found) = installations::find(&state.db, &TenantId::from_trusted(key)).await? {
        return Ok(found);
    }
    installations::find_by_client_key(&state.db, &ClientKey::new(key)).await?.ok_or(Error::NotFound)
}

/// `PRODUCTION (ari:…)`, or a dash before a Forge call named one.
fn environment(i: &Tenant) -> String {
    match i.forge.as_ref().map(|f| (&f.environment_type, &f.environment_id)) {
        Some((Some(kind), Some(id))) => format!("{kind} ({id})"),
        _ => "–".into(),
    }
}

fn product(i: &Tenant) -> &'static str {
    i.site.product.map_or("–", Product::as_str)
}

/// An id as one URL path segment.
fn url_segment(key: &str) -> String {
    url::form_urlencoded::byte_serialize(key.as_bytes()).collect::<String>().replace('+', "%20")
}
