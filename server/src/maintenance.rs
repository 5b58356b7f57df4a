//! Housekeeping that runs beside request handling: giving up on tenants
//! Forge stopped reaching and the retention purge (hourly, and from the
//! CLI), and re-encryption of shared secrets under a
//! new key while the app keeps serving.

use std::{sync::Arc, time::Duration};

use ids::{TenantId, UnixTime};
use serde::Serialize;

use crate::{
    clock::Clock,
    connect::forge_silence::{self, SilenceLimits},
    error::Result,
    lifecycle,
    lifecycle_hooks::{LifecycleHooks, TenantChange, TenantEvent},
    outbound::system_tokens,
    secrets::Keyring,
    store::{
        self, Database, installations,
        purge::{self, Expired},
    },
};

/// What the housekeeping job is told.
pub(crate) struct Housekeeping {
    pub db: Database,
    pub clock: Arc<Clock>,
    /// How long inactive installations are kept.
    pub retention: Duration,
    /// How long webhook jobs that ended are kept.
    pub job_retention: Duration,
    pub silence: SilenceLimits,
    pub interval: Duration,
    pub hooks: Arc<LifecycleHooks>,
}

/// Runs every `interval` until the task is dropped: gives up on tenants
/// Forge stopped reaching (once the app has run long enough for Forge to
/// reach those still installed), then purges expired installations and
/// webhook jobs that ended long enough ago.
pub(crate) fn spawn_purge_job(job: Housekeeping) -> tokio::task::JoinHandle<()> {
    let Housekeeping { db, clock, retention, job_retention, silence, interval, hooks } = job;
    let started = clock.now();
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if forge_silence::warmed_up(started, clock.now()) {
                match lifecycle::forge_silence::give_up_on_silent(&db, clock.now(), &silence).await {
                    Ok(given_up) => {
                        for tenant in given_up {
                            hooks.fire(tenant_event(TenantChange::Uninstalled, tenant.tenant_id, tenant.site.base_url));
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "giving up on silent Forge tenants failed; will retry"),
                }
            }
            match purge(&db, &clock, retention).await {
                Ok(purged) => {
                    for expired in purged {
                        hooks.fire(tenant_event(TenantChange::Purged, expired.tenant_id, expired.base_url));
                    }
                }
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

/// Treats the tenants born on Forge that Forge has not reached for longer
/// than `limits.gone_after` as uninstalled (`preUninstall` is best-effort).
pub async fn give_up_on_silent(db: &Database, clock: &Clock, limits: &SilenceLimits) -> Result<Vec<TenantId>> {
    let given_up = lifecycle::forge_silence::give_up_on_silent(db, clock.now(), limits).await?;
    Ok(given_up.into_iter().map(|tenant| tenant.tenant_id).collect())
}

fn tenant_event(change: TenantChange, tenant_id: TenantId, base_url: ids::BaseUrl) -> TenantEvent {
    TenantEvent { change, tenant_id, base_url }
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
        client_key: installation.connect.map(|c| c.client_key),
        base_url: installation.site.base_url,
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
        let Some(connect) = &installation.connect else { continue };
        let (client_key, sealed) = (&connect.client_key, &connect.secret);
        if sealed.key_id == keyring.primary().id() {
            report.already_current += 1;
            continue;
        }
        let Ok(secret) = keyring.open(client_key, sealed) else {
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
