//! Applying an authenticated Connect lifecycle event in one race-safe
//! transaction: read the row, let `connect::lifecycle::decide` choose, write
//! the result and its log entry, commit. Concurrent deliveries queue on the
//! write lock, so each decides on what the previous one committed.
//!
//! A signed install for a clientKey the app has never seen, naming the
//! installationId of a tenant born on Forge, joins that tenant (it gains its
//! Connect side and keeps its data) instead of creating another.

use ids::{BaseUrl, ClientKey, InstallationId, TenantId, UnixTime};

use crate::{
    connect::{
        callback_proof::VerifiedCallback,
        lifecycle::{Decision, Incoming, LifecycleEvent, decide},
        payload::LifecyclePayload,
        signature::Signature,
    },
    error::{Error, Result},
    lifecycle_hooks::{TenantEvent, connect_change},
    secrets::{SealedSecret, SharedSecret, constant_time_eq},
    state::AppState,
    store::{
        WriteTx,
        event_log::{self, NewEvent, Outcome},
        identities::{self, Name},
        installations::{self, InstallFields, Tenant},
    },
};

/// What the transaction writes beyond the decision's inputs.
struct EventWrite<'a> {
    client_key: &'a ClientKey,
    base_url: &'a BaseUrl,
    now: UnixTime,
    /// Present for `installed`: what a create or reinstall stores.
    install: Option<InstallFields<'a>>,
    /// The shared secret an install brings, to compare with the stored one.
    new_secret: &'a str,
}

/// What a callback decided, and what it changed for the vendor's hooks.
pub(crate) struct Applied {
    pub decision: Decision,
    pub changes: Vec<TenantEvent>,
}

/// Applies `event`, whose callback `verified` authenticated, and says what was decided.
pub(crate) async fn apply(
    state: &AppState,
    event: LifecycleEvent,
    payload: &LifecyclePayload,
    verified: &VerifiedCallback,
) -> Result<Applied> {
    let now = state.clock.now();
    let new_secret = payload.shared_secret.as_deref().unwrap_or_default();
    let sealed = match event {
        LifecycleEvent::Installed => {
            Some(state.keyring.seal(&payload.client_key, &SharedSecret::new(new_secret.as_bytes().to_vec()))?)
        }
        _ => None,
    };
    let fingerprint = verified.fingerprint.as_deref();
    let install = sealed.as_ref().map(|sealed| InstallFields {
        client_key: &payload.client_key,
        base_url: &payload.base_url,
        display_url: payload.display_url.as_deref(),
        product_type: payload.product_type.as_deref(),
        description: payload.description.as_deref(),
        app_key: &payload.key,
        oauth_client_id: payload.oauth_client_id.as_deref(),
        service_entitlement_number: payload.service_entitlement_number.as_deref(),
        installation_id: forge_installation(payload, verified),
        sealed,
        signature: verified.signature,
        now,
        iat: verified.iat,
        token_fingerprint: fingerprint,
    });
    let write = EventWrite { client_key: &payload.client_key, base_url: &payload.base_url, now, install, new_secret };
    let incoming = Incoming {
        event,
        signature: verified.signature,
        iat: verified.iat,
        base_url: &payload.base_url,
        same_secret: false,
        base_url_taken: false,
        token_fingerprint: fingerprint,
        installation_id: forge_installation(payload, verified),
    };
    transaction(state, incoming, &write).await
}

/// The Forge installation an install joins: only one that Atlassian's RS256
/// signature vouches for (threat FT-08). An unsigned legacy install naming
/// another tenant's installationId must not take its Forge calls.
fn forge_installation<'a>(payload: &'a LifecyclePayload, verified: &VerifiedCallback) -> Option<&'a InstallationId> {
    payload.installation_id.as_ref().filter(|_| verified.signature == Signature::AtlassianRs256)
}

/// Where the event lands: the clientKey's tenant, a Forge tenant it joins, or a new one.
enum Target {
    Existing(Tenant),
    JoinForge(Tenant),
    New(TenantId),
}

impl Target {
    fn tenant_id(&self) -> &TenantId {
        match self {
            Self::Existing(i) | Self::JoinForge(i) => &i.tenant_id,
            Self::New(id) => id,
        }
    }
}

async fn transaction(state: &AppState, incoming: Incoming<'_>, write: &EventWrite<'_>) -> Result<Applied> {
    let mut tx = state.db.begin_write().await?;
    let target = target(&mut tx, write).await?;
    let decision = decide_in(state, &mut tx, incoming.clone(), write, &target).await?;
    let tenant_id = target.tenant_id().clone();
    // A rejection for a clientKey with no row is not logged: no installation owns it.
    if matches!(target, Target::Existing(_)) || !matches!(decision, Decision::Reject(_)) {
        record(&mut tx, &incoming, write, &tenant_id, &decision, matches!(target, Target::JoinForge(_))).await?;
    }
    if matches!(decision, Decision::Create | Decision::Reinstall { .. }) {
        record_identities(&mut tx, write, &tenant_id).await?;
        orphan_older_installations(&mut tx, &incoming, write, &tenant_id).await?;
    }
    tx.commit().await?;
    let changes = match &target {
        Target::Existing(before) => connect_change(Some(before), &decision, incoming.installation_id.is_some()),
        Target::New(_) => connect_change(None, &decision, false),
        // A tenant born on Forge that a Connect install joins was installed already.
        Target::JoinForge(_) => vec![],
    };
    let event = |change| TenantEvent { change, tenant_id: tenant_id.clone(), base_url: write.base_url.clone() };
    Ok(Applied { decision, changes: changes.into_iter().map(event).collect() })
}

async fn target(tx: &mut WriteTx, write: &EventWrite<'_>) -> Result<Target> {
    if let Some(current) = installations::find_by_client_key_in(tx, write.client_key).await? {
        return Ok(Target::Existing(current));
    }
    let named = write.install.as_ref().and_then(|i| i.installation_id);
    if let Some(installation_id) = named
        && let Some(holder) = installations::find_by_installation_id_in(tx, installation_id).await?
        && holder.connect.is_none()
        && holder.is_active()
    {
        return Ok(Target::JoinForge(holder));
    }
    Ok(Target::New(super::new_tenant_id()?))
}

async fn decide_in(
    state: &AppState,
    tx: &mut WriteTx,
    mut incoming: Incoming<'_>,
    write: &EventWrite<'_>,
    target: &Target,
) -> Result<Decision> {
    let current = match target {
        Target::Existing(current) => Some(current),
        Target::JoinForge(_) | Target::New(_) => None,
    };
    incoming.same_secret = match (current.and_then(|c| c.connect.as_ref()), &write.install) {
        (Some(connect), Some(_)) => same_secret(state, &connect.secret, &connect.client_key, write.new_secret),
        _ => false,
    };
    incoming.base_url_taken = installations::base_url_taken(tx, write.base_url, write.client_key).await?;
    let snapshot = current.map(super::snapshot);
    let decision = decide(snapshot.as_ref(), &incoming);
    let install_fields =
        || write.install.as_ref().ok_or_else(|| Error::Internal("install decided without install fields".into()));
    let tenant_id = target.tenant_id();
    match (&decision, target) {
        (Decision::Create, Target::JoinForge(_)) => {
            installations::join_connect(tx, tenant_id, install_fields()?).await?
        }
        (Decision::Create, _) => installations::insert(tx, tenant_id, install_fields()?).await?,
        (Decision::Reinstall { state, .. }, _) => {
            installations::reinstall(tx, tenant_id, install_fields()?, *state).await?
        }
        (Decision::SetState(state), _) => {
            let iat = incoming.iat.max(snapshot.as_ref().map_or(incoming.iat, |s| s.last_event_iat));
            installations::set_state(tx, tenant_id, *state, write.now, iat).await?;
        }
        (Decision::Ignore(_) | Decision::Reject(_), _) => {}
    }
    Ok(decision)
}

/// Does the stored secret (sealed to this clientKey) equal the one the install brings?
fn same_secret(state: &AppState, stored: &SealedSecret, client_key: &str, new_secret: &str) -> bool {
    state.keyring.open(client_key, stored).is_ok_and(|old| constant_time_eq(old.expose(), new_secret.as_bytes()))
}

async fn record(
    tx: &mut WriteTx,
    incoming: &Incoming<'_>,
    f: &EventWrite<'_>,
    tenant_id: &TenantId,
    decision: &Decision,
    joined_forge: bool,
) -> Result<()> {
    let (outcome, detail) = match decision {
        Decision::Create if joined_forge => {
            (Outcome::Accepted, format!("Connect install for {} joined the tenant born on Forge", f.base_url))
        }
        Decision::Create => (Outcome::Accepted, format!("first install for {}", f.base_url)),
        Decision::Reinstall { renamed_from: Some(old), .. } => {
            (Outcome::Accepted, format!("reinstall; base URL changed from {old} to {}", f.base_url))
        }
        Decision::Reinstall { .. } => (Outcome::Accepted, "reinstall".to_string()),
        Decision::SetState(state) => (Outcome::Accepted, format!("state {state}")),
        Decision::Ignore(reason) => (Outcome::Ignored, (*reason).to_string()),
        Decision::Reject(reason) => (Outcome::Rejected, (*reason).to_string()),
    };
    let entry = NewEvent {
        tenant_id,
        event: incoming.event.as_str(),
        now: f.now,
        signature: incoming.signature,
        outcome,
        detail: Some(&detail),
    };
    event_log::append(tx, &entry).await
}

/// The base URL and installationId a verified install brought join the
/// tenant's history; a Forge tenant that held that installationId before
/// (it was born from Forge's event) is superseded.
async fn record_identities(tx: &mut WriteTx, f: &EventWrite<'_>, tenant_id: &TenantId) -> Result<()> {
    identities::record(tx, tenant_id, Name::BaseUrl(f.base_url), f.now).await?;
    if let Some(installation_id) = f.install.as_ref().and_then(|i| i.installation_id) {
        identities::record(tx, tenant_id, Name::InstallationId(installation_id), f.now).await?;
        for orphan in installations::orphan_other_holders(tx, installation_id, tenant_id, f.now).await? {
            let detail = format!("orphaned: Forge installation {installation_id} joined clientKey {}", f.client_key);
            log_orphan(tx, &orphan, f.now, Signature::AtlassianRs256, &detail).await?;
        }
    }
    Ok(())
}

/// seed 000: after a site import the base URL belongs to the new clientKey;
/// older installations of it become orphans (inactive, purged later).
async fn orphan_older_installations(
    tx: &mut WriteTx,
    incoming: &Incoming<'_>,
    f: &EventWrite<'_>,
    tenant_id: &TenantId,
) -> Result<()> {
    for orphan in installations::orphan_others(tx, f.base_url, tenant_id, f.now).await? {
        let detail = format!("orphaned: {} was installed again under clientKey {}", f.base_url, f.client_key);
        log_orphan(tx, &orphan, f.now, incoming.signature, &detail).await?;
    }
    Ok(())
}

async fn log_orphan(
    tx: &mut WriteTx,
    orphan: &TenantId,
    now: UnixTime,
    signature: Signature,
    detail: &str,
) -> Result<()> {
    let entry = NewEvent {
        tenant_id: orphan,
        event: "orphaned",
        now,
        signature,
        outcome: Outcome::Accepted,
        detail: Some(detail),
    };
    event_log::append(tx, &entry).await
}
