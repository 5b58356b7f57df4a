//! Giving up on tenants born on Forge that Forge has stopped reaching
//! (`connect::forge_silence`): each is treated as uninstalled in its own
//! write, only if it is still active and still unreached when the write
//! runs, with a line in its event log. The purge of the uninstalled then
//! takes it after the retention like any other. (Its system token, hours
//! old by then, is never used for an inactive tenant and goes with the purge.)

use ids::UnixTime;

use crate::{
    connect::{forge_silence::SilenceLimits, signature::Signature},
    error::Result,
    store::{
        Database, Tenant,
        event_log::{self, NewEvent, Outcome},
        installations,
    },
};

/// Treats every active tenant born on Forge that Forge has not reached for
/// longer than `limits.gone_after` as uninstalled; returns them as they were.
pub(crate) async fn give_up_on_silent(db: &Database, now: UnixTime, limits: &SilenceLimits) -> Result<Vec<Tenant>> {
    let days = limits.gone_after.as_secs() / 86_400;
    let cutoff = now - i64::try_from(limits.gone_after.as_secs()).unwrap_or(i64::MAX);
    let mut given_up = Vec::new();
    for tenant in installations::not_reached_since(db, cutoff).await? {
        // One failed write must not hide the tenants already given up on.
        match give_up(db, &tenant, now, cutoff, days).await {
            Ok(true) => given_up.push(tenant),
            Ok(false) => {}
            Err(e) => tracing::warn!(tenant_id = %tenant.tenant_id, error = %e, "could not give up; will retry"),
        }
    }
    Ok(given_up)
}

/// Gives up on one tenant in its own write, if it is still unreached.
async fn give_up(db: &Database, tenant: &Tenant, now: UnixTime, cutoff: UnixTime, days: u64) -> Result<bool> {
    let id = &tenant.tenant_id;
    let mut tx = db.begin_write().await?;
    if !installations::give_up(&mut tx, id, now, cutoff).await? {
        return Ok(false);
    }
    let since = tenant.forge_reached_at.unwrap_or(tenant.last_event_at);
    let detail = format!(
        "state uninstalled: Forge has not reached it since {since} (over {days} days) and preUninstall never came"
    );
    let entry = NewEvent {
        tenant_id: id,
        event: "uninstalled",
        now,
        signature: Signature::Housekeeping,
        outcome: Outcome::Accepted,
        detail: Some(&detail),
    };
    event_log::append(&mut tx, &entry).await?;
    tx.commit().await?;
    tracing::info!(tenant_id = %id, since = %since, "Forge has been silent too long: treated as uninstalled");
    Ok(true)
}
