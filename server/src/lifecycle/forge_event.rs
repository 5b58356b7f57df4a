//! Applying a verified Forge lifecycle delivery in one race-safe
//! transaction, like `connect_event` for Connect: read the tenant that
//! holds the installation (and, for `installed`, the site's tenant in the
//! FIT's environment), let `connect::forge_event::decide` choose, write the
//! result and its log entry, commit. Two retries of one `installed` queue on
//! the write lock, so the second finds the tenant the first created.

use ids::{BaseUrl, TenantId, UnixTime};

use crate::{
    connect::{
        forge_event::{ForgeDecision, ForgeEvent, Site, TenantView, decide},
        forge_silence,
        forge_token::VerifiedFit,
        lifecycle::{self, Decision, Incoming, InstallState, LifecycleEvent},
        signature::Signature,
    },
    error::Result,
    lifecycle_hooks::{TenantChange, forge_change},
    store::{
        Database, WriteTx,
        event_log::{self, NewEvent, Outcome},
        forge_tokens,
        identities::{self, Name},
        installations::{self, ForgeTenantFields, Tenant},
    },
    tenant::Product,
};

/// A verified delivery: the event, its FIT, and the site URL it may use
/// (only one the host allowlist accepts, without a trailing slash).
pub(crate) struct ForgeDelivery<'a> {
    pub event: ForgeEvent,
    pub fit: &'a VerifiedFit,
    pub site_url: Option<&'a BaseUrl>,
    pub now: UnixTime,
}

/// What the delivery decided, the tenant it concerns as it is now, and
/// what it changed for the vendor's hooks.
pub(crate) struct Applied {
    pub decision: ForgeDecision,
    pub tenant: Option<Tenant>,
    pub change: Option<TenantChange>,
}

pub(crate) async fn apply_forge_event(db: &Database, d: &ForgeDelivery<'_>) -> Result<Applied> {
    let mut tx = db.begin_write().await?;
    let by_installation = installations::find_by_installation_id_in(&mut tx, &d.fit.installation_id).await?;
    let (site, site_tenant) = match (d.event, &by_installation) {
        (ForgeEvent::Installed, None) => site_of(&mut tx, d.fit).await?,
        _ => (Site::Vacant, None),
    };
    let view = |i: &Tenant| TenantView { state: i.state, active: i.is_active(), given_up: i.given_up_at.is_some() };
    let decision = decide(d.event, by_installation.as_ref().map(view).as_ref(), &site);
    let tenant = by_installation.or(site_tenant);
    let changed = match (&decision, &tenant) {
        (ForgeDecision::Create, _) => Some(create(&mut tx, d).await?),
        (ForgeDecision::Join, Some(t)) => Some(join(&mut tx, d, &t.tenant_id).await?),
        (ForgeDecision::Revive, Some(t)) => Some(revive(&mut tx, d, &t.tenant_id).await?),
        (ForgeDecision::Uninstall, Some(t)) => Some(uninstall(&mut tx, d, t).await?),
        (ForgeDecision::ConfirmUninstall, Some(t)) => Some(confirm_uninstall(&mut tx, d, &t.tenant_id).await?),
        (ForgeDecision::Refresh(Some(reason)), Some(t)) => {
            log(&mut tx, d, &t.tenant_id, Outcome::Accepted, reason).await?;
            None
        }
        (ForgeDecision::Ignore(reason), Some(t)) => {
            log(&mut tx, d, &t.tenant_id, Outcome::Ignored, reason).await?;
            None
        }
        _ => None,
    };
    // Reached, in this write: the give-up of a silent tenant either commits
    // first (and this delivery revived it above) or sees this reach.
    let reached = match &tenant {
        Some(t) if t.connect.is_none() => installations::record_reached(&mut tx, &t.tenant_id, d.now).await?,
        _ => false,
    };
    let change = forge_change(tenant.as_ref(), &decision);
    let reread = changed.or_else(|| tenant.as_ref().filter(|_| reached).map(|t| t.tenant_id.clone()));
    let tenant = match reread {
        Some(tenant_id) => installations::find_in(&mut tx, &tenant_id).await?,
        None => tenant,
    };
    tx.commit().await?;
    Ok(Applied { decision, tenant, change })
}

/// The tenant of the FIT's site, product and environment, if any: the
/// active one, else one born on Forge there that an earlier delivery
/// uninstalled (Jira and Confluence on one site share its cloudId).
async fn site_of(tx: &mut WriteTx, fit: &VerifiedFit) -> Result<(Site, Option<Tenant>)> {
    let (Some(cloud_id), Some(environment)) = (fit.cloud_id.as_ref(), fit.environment.as_ref()) else {
        return Ok((Site::Unnamed, None));
    };
    let product = product_of(fit);
    let same_product = |t: &Tenant| product.is_none() || t.site.product.is_none() || t.site.product == product;
    let here = installations::on_site_in(tx, cloud_id).await?.into_iter();
    let here = here.filter(|t| environment.matches(t.environment_id()) && same_product(t));
    let (active, departed): (Vec<_>, Vec<_>) = here.partition(Tenant::is_active);
    if let Some(tenant) = active.into_iter().next() {
        return Ok((Site::Taken, Some(tenant)));
    }
    let departed = departed
        .into_iter()
        .find(|t| t.connect.is_none() && t.state == InstallState::Uninstalled && t.last_event_iat <= fit.iat);
    Ok(match departed {
        Some(tenant) => (Site::Departed, Some(tenant)),
        None => (Site::Vacant, None),
    })
}

/// A tenant born on Forge: its own id, the installation, site and
/// environment, and no Connect secret.
async fn create(tx: &mut WriteTx, d: &ForgeDelivery<'_>) -> Result<TenantId> {
    let fit = d.fit;
    let environment = fit.environment.as_ref();
    let tenant_id = super::new_tenant_id()?;
    let fields = ForgeTenantFields {
        tenant_id: &tenant_id,
        installation_id: &fit.installation_id,
        cloud_id: fit.cloud_id.as_ref(),
        site_url: d.site_url,
        product_type: product_of(fit).map(Product::as_str),
        environment_id: environment.map_or("", |e| e.id.as_str()),
        environment_type: environment.map_or("", |e| e.kind.as_str()),
        now: d.now,
        iat: fit.iat,
    };
    installations::insert_forge(tx, &fields).await?;
    record_identities(tx, d, &tenant_id).await?;
    let detail = format!(
        "born on Forge: installation {} on site {} ({} environment)",
        fit.installation_id,
        fit.cloud_id.as_deref().unwrap_or_default(),
        fields.environment_type
    );
    log(tx, d, &tenant_id, Outcome::Accepted, &detail).await?;
    Ok(tenant_id)
}

/// A Forge reinstall: the site's tenant in this environment takes the new installationId.
async fn join(tx: &mut WriteTx, d: &ForgeDelivery<'_>, tenant_id: &TenantId) -> Result<TenantId> {
    let fit = d.fit;
    let environment = fit.environment.as_ref().map(|e| (e.id.as_str(), e.kind.as_str()));
    installations::set_forge_identity(tx, tenant_id, &fit.installation_id, fit.cloud_id.as_ref(), environment).await?;
    record_identities(tx, d, tenant_id).await?;
    let detail = format!("joined Forge installation {}", fit.installation_id);
    log(tx, d, tenant_id, Outcome::Accepted, &detail).await?;
    Ok(tenant_id.clone())
}

/// Installed again after an uninstall (or reached again after the app gave
/// up on it): the tenant, its data and its id come back at the FIT's
/// installationId, as a new generation (old sessions end).
async fn revive(tx: &mut WriteTx, d: &ForgeDelivery<'_>, tenant_id: &TenantId) -> Result<TenantId> {
    let fit = d.fit;
    installations::reinstall_forge(tx, tenant_id, &fit.installation_id, d.now, fit.iat).await?;
    record_identities(tx, d, tenant_id).await?;
    let detail = match d.event {
        ForgeEvent::Installed => {
            format!(
                "installed again on Forge as installation {}: the tenant comes back with its data",
                fit.installation_id
            )
        }
        event => format!("Forge reached it again ({}): no longer treated as uninstalled", event.as_str()),
    };
    log(tx, d, tenant_id, Outcome::Accepted, &detail).await?;
    Ok(tenant_id.clone())
}

/// `preUninstall` goes through Connect's uninstall rule, so it orders with
/// Connect's own callbacks by `iat`; the system token goes with it.
async fn uninstall(tx: &mut WriteTx, d: &ForgeDelivery<'_>, tenant: &Tenant) -> Result<TenantId> {
    let snapshot = super::snapshot(tenant);
    let incoming = Incoming {
        event: LifecycleEvent::Uninstalled,
        signature: Signature::ForgeInvocation,
        iat: d.fit.iat,
        base_url: &tenant.site.base_url,
        same_secret: false,
        base_url_taken: false,
        token_fingerprint: None,
        installation_id: None,
    };
    let id = &tenant.tenant_id;
    match lifecycle::decide(Some(&snapshot), &incoming) {
        Decision::SetState(state) => {
            installations::set_state(tx, id, state, d.now, d.fit.iat.max(tenant.last_event_iat)).await?;
            forge_tokens::delete_in(tx, id).await?;
            log(tx, d, id, Outcome::Accepted, &format!("state {state}")).await?;
        }
        Decision::Ignore(reason) | Decision::Reject(reason) => log(tx, d, id, Outcome::Ignored, reason).await?,
        Decision::Create | Decision::Reinstall { .. } => {}
    }
    Ok(id.clone())
}

/// `preUninstall` for a tenant given up on: it stays uninstalled, for good
/// now, and its system token goes.
async fn confirm_uninstall(tx: &mut WriteTx, d: &ForgeDelivery<'_>, tenant_id: &TenantId) -> Result<TenantId> {
    installations::confirm_uninstall(tx, tenant_id, d.fit.iat).await?;
    forge_tokens::delete_in(tx, tenant_id).await?;
    let detail = "preUninstall confirmed the uninstall assumed after Forge's silence";
    log(tx, d, tenant_id, Outcome::Accepted, detail).await?;
    Ok(tenant_id.clone())
}

/// The installationId, cloudId and site URL join the tenant's history.
async fn record_identities(tx: &mut WriteTx, d: &ForgeDelivery<'_>, tenant_id: &TenantId) -> Result<()> {
    identities::record(tx, tenant_id, Name::InstallationId(&d.fit.installation_id), d.now).await?;
    if let Some(cloud_id) = d.fit.cloud_id.as_ref() {
        identities::record(tx, tenant_id, Name::CloudId(cloud_id), d.now).await?;
    }
    if let Some(site_url) = d.site_url {
        identities::record(tx, tenant_id, Name::BaseUrl(site_url), d.now).await?;
    }
    Ok(())
}

async fn log(
    tx: &mut WriteTx,
    d: &ForgeDelivery<'_>,
    tenant_id: &TenantId,
    outcome: Outcome,
    detail: &str,
) -> Result<()> {
    let event = if d.event == ForgeEvent::PreUninstall { "uninstalled" } else { d.event.as_str() };
    let entry =
        NewEvent { tenant_id, event, now: d.now, signature: Signature::ForgeInvocation, outcome, detail: Some(detail) };
    event_log::append(tx, &entry).await
}

/// The product, from the FIT's API base URL (`…/ex/jira/{cloudId}`, `…/ex/confluence/{cloudId}`).
pub(crate) fn product_of(fit: &VerifiedFit) -> Option<Product> {
    let mut segments = fit.api_base_url.path_segments()?.skip_while(|s| *s != "ex").skip(1);
    segments.next().and_then(Product::parse)
}

/// What a verified FIT teaches about a tenant it reached: the site's cloudId
/// and Forge environment the first time they are named, and, for a tenant
/// born on Forge, its site's new URL after a rename and that Forge reached
/// it (once a granule). Written only when it is news, so most calls of a
/// known tenant cost no write.
pub(crate) async fn learn(
    db: &Database,
    tenant: &Tenant,
    fit: &VerifiedFit,
    site_url: Option<&BaseUrl>,
    now: UnixTime,
) -> Result<()> {
    let environment = fit.environment.as_ref().map(|e| (e.id.as_str(), e.kind.as_str()));
    let new_cloud_id = fit.cloud_id.as_ref().filter(|_| tenant.site.cloud_id.is_none());
    let new_environment = environment.filter(|_| tenant.environment_id().is_none());
    let renamed = site_url.filter(|url| tenant.connect.is_none() && tenant.site.base_url != **url);
    let reached = tenant.connect.is_none() && forge_silence::worth_recording(tenant.forge_reached_at, now);
    if new_cloud_id.is_none() && new_environment.is_none() && renamed.is_none() && !reached {
        return Ok(());
    }
    let id = &tenant.tenant_id;
    let mut tx = db.begin_write().await?;
    if reached {
        installations::record_reached(&mut tx, id, now).await?;
    }
    if installations::learn_site(&mut tx, id, new_cloud_id, new_environment).await?
        && let Some(cloud_id) = new_cloud_id
    {
        identities::record(&mut tx, id, Name::CloudId(cloud_id), now).await?;
    }
    if let Some(url) = renamed
        && installations::rename_site(&mut tx, id, url).await?
    {
        identities::record(&mut tx, id, Name::BaseUrl(url), now).await?;
        let detail = match tenant.site.base_url.as_str() {
            "" => format!("site URL {url}"),
            old => format!("site renamed from {old} to {url}"),
        };
        let entry = NewEvent {
            tenant_id: id,
            event: "site",
            now,
            signature: Signature::ForgeInvocation,
            outcome: Outcome::Accepted,
            detail: Some(&detail),
        };
        event_log::append(&mut tx, &entry).await?;
    }
    tx.commit().await
}
