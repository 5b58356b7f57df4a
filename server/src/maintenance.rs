//! Housekeeping that runs beside request handling: the retention purge
//! (hourly, and from the CLI) and re-encryption of shared secrets under a
//! new key while the app keeps serving.

use std::{sync::Arc, time::Duration};

use ids::{TenantId, UnixTime};
use serde::Serialize;

use crate::{
    clock::Clock,
    error::Result,
    outbound::system_tokens,
    secrets::Keyring,
    store::{
        self, Database, installations,
        purge::{self, Expired},
    },
};

/// Runs the purges every `interval` until the task is dropped: expired
/// installations (kept `retention`) and webhook jobs that ended more than
/// `job_retention` ago.
pub(crate) fn spawn_purge_job(
    db: Database,
    clock: Arc<Clock>,
    retention: Duration,
    job_retention: Duration,
    interval: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match purge(&db, &clock, retention).await {
                Ok(purged) if !purged.is_empty() => tracing::info!(count = purged.len(), "retention purge done"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "retention purge failed; will retry"),
            }
            match purge_finished_jobs(&db, &clock, job_retention).await {
                Ok(0) => {}
                Ok(jobs) => tracing::info!(jobs, "finished webhook jobs past their retention purged"),
                Err(e) => tracing::warn!(error = %e, "webhook job purge failed; will retry"),
            }
        }
    })
}

/// Deletes the webhook jobs that ended (done, dropped, dead) more than
/// `retention` ago; returns how many.
pub async fn purge_finished_jobs(db: &Database, clock: &Clock, retention: Duration) -> Result<u64> {
    store::webhook_jobs::purge_finished(db, clock.now() - retention.as_secs() as i64).await
}

pub async fn purge(db: &Database, clock: &Clock, retention: Duration) -> Result<Vec<Expired>> {
    store::purge::purge_expired(db, clock.now(), retention.as_secs() as i64).await
}

/// Purges one installation now, whatever its age, if it is orphaned or
/// uninstalled (an operator's "purge now"). Active installations stay.
pub(crate) async fn purge_now(db: &Database, tenant_id: &TenantId, now: UnixTime) -> Result<bool> {
    let Some(installation) = installations::find(db, tenant_id).await? else { return Ok(false) };
    let reason = if installation.orphaned_at.is_some() {
        "orphaned (purged by an operator)"
    } else if installation.uninstalled_at.is_some() {
        "uninstalled (purged by an operator)"
    } else {
        return Ok(false);
    };
    let candidate = Expired {
        tenant_id: installation.tenant_id,
        client_key: installation.client_key,
        base_url: installation.base_url,
        reason: reason.into(),
        inactive_since: installation.orphaned_at.or(installation.uninstalled_at).unwrap_or(now),
    };
    purge::purge_one(db, &candidate, now, UnixTime::from_secs(i64::MAX)).await
}

#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct RotationReport {
    pub reencrypted: usize,
    pub already_current: usize,
    /// Rows changed by a concurrent reinstall (already under the new key) or
    /// whose key is not configured; they are left as they are.
    pub skipped: usize,
}

/// Re-seals every shared secret and Forge system token that is not under
/// the keyring's primary key. Each row is replaced only if unchanged since it
/// was read, so a reinstall (or a newer token) that lands meanwhile is never
/// overwritten with an older value.
pub async fn reencrypt_all(db: &Database, keyring: &Keyring) -> Result<RotationReport> {
    let mut report = RotationReport::default();
    reencrypt_system_tokens(db, keyring, &mut report).await?;
    for installation in store::installations::list(db).await? {
        // A tenant born on Forge has no shared secret.
        let Some((client_key, sealed)) = installation.sealed_secret() else { continue };
        if sealed.key_id == keyring.primary().id() {
            report.already_current += 1;
            continue;
        }
        let Ok(secret) = keyring.open(client_key, &sealed) else {
            tracing::warn!(%client_key, key_id = %sealed.key_id, "cannot open a secret: its key is not configured");
            report.skipped += 1;
            continue;
        };
        let resealed = keyring.seal(client_key, &secret)?;
        if store::installations::replace_sealed_secret(db, &installation.tenant_id, &sealed.ciphertext, &resealed)
            .await?
        {
            report.reencrypted += 1;
        } else {
            report.skipped += 1;
        }
    }
    Ok(report)
}

async fn reencrypt_system_tokens(db: &Database, keyring: &Keyring, report: &mut RotationReport) -> Result<()> {
    for token in store::forge_tokens::list(db).await? {
        if token.token_key_id == keyring.primary().id() {
            report.already_current += 1;
            continue;
        }
        let binding = system_tokens::binding(&token.tenant_id);
        let Ok(opened) = keyring.open(&binding, &token.sealed()) else {
            tracing::warn!(tenant_id = %token.tenant_id, "cannot open a system token: its key is not configured");
            report.skipped += 1;
            continue;
        };
        let resealed = keyring.seal(&binding, &opened)?;
        if store::forge_tokens::replace_sealed(db, &token.tenant_id, &token.token_ciphertext, &resealed).await? {
            report.reencrypted += 1;
        } else {
            report.skipped += 1;
        }
    }
    Ok(())
}
