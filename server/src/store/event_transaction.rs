//! Applying an authenticated lifecycle event in one race-safe transaction:
//! read the row, let `connect::lifecycle::decide` choose, write the result
//! and its log entry, commit. Concurrent deliveries queue on the write lock,
//! so each decides on what the previous one committed.

use super::{
    WriteTx,
    event_log::{self, NewEvent, Outcome},
    identities::{self, IdentityKind},
    installations::{self, InstallFields},
};
use crate::{
    connect::lifecycle::{Decision, Incoming, Snapshot, decide},
    error::{Error, Result},
    secrets::SealedSecret,
};

/// Everything the transaction needs beyond the decision inputs.
pub(crate) struct EventWrite<'a> {
    pub client_key: &'a str,
    pub base_url: &'a str,
    pub now: i64,
    /// Present for `installed`: what a create or reinstall stores.
    pub install: Option<NewInstall<'a>>,
}

pub(crate) struct NewInstall<'a> {
    pub fields: InstallFields<'a>,
    /// Does a stored sealed secret (of this clientKey) equal the new one?
    pub same_secret: &'a (dyn Fn(&SealedSecret, &str) -> bool + Send + Sync),
}

pub(crate) async fn apply_event(
    db: &super::Database,
    incoming: Incoming<'_>,
    write: &EventWrite<'_>,
) -> Result<Decision> {
    let mut tx = db.begin_write().await?;
    let (decision, had_row) = decide_in(&mut tx, incoming.clone(), write).await?;
    // A rejection for a clientKey with no row is not logged: no installation owns it.
    if had_row || !matches!(decision, Decision::Reject(_)) {
        record(&mut tx, &incoming, write, &decision).await?;
    }
    if matches!(decision, Decision::Create | Decision::Reinstall { .. }) {
        record_identities(&mut tx, write).await?;
        orphan_older_installations(&mut tx, &incoming, write).await?;
    }
    tx.commit().await?;
    Ok(decision)
}

async fn decide_in(tx: &mut WriteTx, mut incoming: Incoming<'_>, write: &EventWrite<'_>) -> Result<(Decision, bool)> {
    let current = installations::find_in(tx, write.client_key).await?;
    incoming.same_secret = match (&current, &write.install) {
        (Some(c), Some(install)) => (install.same_secret)(&c.sealed_secret(), &c.client_key),
        _ => false,
    };
    incoming.base_url_taken = installations::base_url_taken(tx, write.base_url, write.client_key).await?;
    let snapshot = current.as_ref().map(|c| Snapshot {
        state: c.state,
        base_url: c.base_url.clone(),
        orphaned: c.orphaned_at.is_some(),
        last_event_iat: c.last_event_iat,
        last_install_iat: c.last_install_iat,
        last_install_token: c.last_install_token.clone(),
        installation_id: c.installation_id.clone(),
    });
    let decision = decide(snapshot.as_ref(), &incoming);
    let install_fields = || {
        write
            .install
            .as_ref()
            .map(|i| &i.fields)
            .ok_or_else(|| Error::Internal("install decided without install fields".into()))
    };
    match &decision {
        Decision::Create => installations::insert(tx, install_fields()?).await?,
        Decision::Reinstall { state, .. } => installations::reinstall(tx, install_fields()?, *state).await?,
        Decision::SetState(state) => {
            let iat = incoming.iat.max(snapshot.as_ref().map_or(incoming.iat, |s| s.last_event_iat));
            installations::set_state(tx, write.client_key, *state, write.now, iat).await?;
        }
        Decision::Ignore(_) | Decision::Reject(_) => {}
    }
    Ok((decision, current.is_some()))
}

async fn record(tx: &mut WriteTx, incoming: &Incoming<'_>, f: &EventWrite<'_>, decision: &Decision) -> Result<()> {
    let (outcome, detail) = match decision {
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
        client_key: f.client_key,
        event: incoming.event.as_str(),
        now: f.now,
        signature: incoming.signature.as_str(),
        outcome,
        detail: Some(&detail),
    };
    event_log::append(tx, &entry).await
}

/// The base URL and installationId a verified install brought join the
/// tenant's history.
async fn record_identities(tx: &mut WriteTx, f: &EventWrite<'_>) -> Result<()> {
    identities::record(tx, f.client_key, IdentityKind::BaseUrl, f.base_url, f.now).await?;
    if let Some(installation_id) = f.install.as_ref().and_then(|i| i.fields.installation_id) {
        identities::record(tx, f.client_key, IdentityKind::InstallationId, installation_id, f.now).await?;
    }
    Ok(())
}

/// seed 000: after a site import the base URL belongs to the new clientKey;
/// older installations of it become orphans (inactive, purged later).
async fn orphan_older_installations(tx: &mut WriteTx, incoming: &Incoming<'_>, f: &EventWrite<'_>) -> Result<()> {
    for orphan in installations::orphan_others(tx, f.base_url, f.client_key, f.now).await? {
        let detail = format!("orphaned: {} was installed again under clientKey {}", f.base_url, f.client_key);
        let entry = NewEvent {
            client_key: &orphan,
            event: "orphaned",
            now: f.now,
            signature: incoming.signature.as_str(),
            outcome: Outcome::Accepted,
            detail: Some(&detail),
        };
        event_log::append(tx, &entry).await?;
    }
    Ok(())
}
