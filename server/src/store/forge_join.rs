//! Writing what a verified Forge event says, in one transaction with its
//! log entry: a new installationId (and the site's cloudId) joined to the
//! tenant, or a note that a delivery changed nothing.

use super::{
    Database,
    event_log::{self, NewEvent, Outcome},
    identities::{self, IdentityKind},
    installations,
};
use crate::error::Result;

/// The Forge event a log entry is about.
pub(crate) struct ForgeNote<'a> {
    pub client_key: &'a str,
    pub event: &'a str,
    pub now: i64,
}

/// Points `note.client_key` at `installation_id` and keeps both ids in its history.
pub(crate) async fn join(db: &Database, note: &ForgeNote<'_>, installation_id: &str, cloud_id: &str) -> Result<()> {
    let mut tx = db.begin_write().await?;
    installations::set_forge_identity(&mut tx, note.client_key, installation_id, Some(cloud_id)).await?;
    identities::record(&mut tx, note.client_key, IdentityKind::InstallationId, installation_id, note.now).await?;
    identities::record(&mut tx, note.client_key, IdentityKind::CloudId, cloud_id, note.now).await?;
    let detail = format!("joined Forge installation {installation_id}");
    append(&mut tx, note, Outcome::Accepted, &detail).await?;
    tx.commit().await
}

/// Logs a delivery for the tenant's history.
pub(crate) async fn record(db: &Database, note: &ForgeNote<'_>, outcome: Outcome, detail: &str) -> Result<()> {
    event_log::append_alone(db, &entry(note, outcome, detail)).await
}

async fn append(tx: &mut super::WriteTx, note: &ForgeNote<'_>, outcome: Outcome, detail: &str) -> Result<()> {
    event_log::append(tx, &entry(note, outcome, detail)).await
}

fn entry<'a>(note: &ForgeNote<'a>, outcome: Outcome, detail: &'a str) -> NewEvent<'a> {
    NewEvent {
        client_key: note.client_key,
        event: note.event,
        now: note.now,
        signature: "fit",
        outcome,
        detail: Some(detail),
    }
}
