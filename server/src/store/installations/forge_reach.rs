//! When Forge last reached a tenant born on Forge, and giving up on one it
//! has not reached for too long (`connect::forge_silence` judges).

use ids::{TenantId, UnixTime};

use super::{ACTIVE, COLUMNS, Tenant};
use crate::{
    connect::forge_silence::REACH_GRANULARITY_SECS,
    error::Result,
    store::{Database, WriteTx},
};

/// A verified FIT reached the active tenant `now`; written at most once a
/// granule. Returns whether it wrote.
pub(crate) async fn record_reached(tx: &mut WriteTx, tenant_id: &TenantId, now: UnixTime) -> Result<bool> {
    let sql = format!(
        "UPDATE installations SET forge_reached_at = $2 WHERE tenant_id = $1 AND client_key IS NULL AND {ACTIVE} \
         AND (forge_reached_at IS NULL OR forge_reached_at <= $3)"
    );
    let since = now - REACH_GRANULARITY_SECS;
    let changed = on_tx!(tx, conn => sqlx::query(&sql).bind(tenant_id).bind(now).bind(since)
        .execute(conn).await?.rows_affected());
    Ok(changed == 1)
}

/// The active tenants born on Forge not reached since `cutoff`, longest
/// silent first (a row with no reach recorded is not judged).
pub(crate) async fn not_reached_since(db: &Database, cutoff: UnixTime) -> Result<Vec<Tenant>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM installations WHERE client_key IS NULL AND {ACTIVE} AND forge_reached_at < $1 \
         ORDER BY forge_reached_at, tenant_id"
    );
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(cutoff).fetch_all(pool).await?))
}

/// Treats the tenant as uninstalled, if it is still active and still not
/// reached since `cutoff`: a Forge delivery records its reach in its own
/// write, so whichever commits first wins. Returns whether it did.
pub(crate) async fn give_up(tx: &mut WriteTx, tenant_id: &TenantId, now: UnixTime, cutoff: UnixTime) -> Result<bool> {
    let sql = format!(
        "UPDATE installations SET state = 'uninstalled', uninstalled_at = $2, given_up_at = $2, last_event_at = $2 \
         WHERE tenant_id = $1 AND client_key IS NULL AND {ACTIVE} AND forge_reached_at < $3"
    );
    let changed = on_tx!(tx, conn => sqlx::query(&sql).bind(tenant_id).bind(now).bind(cutoff)
        .execute(conn).await?.rows_affected());
    Ok(changed == 1)
}

/// Forge's `preUninstall` for a tenant the app had given up on: uninstalled
/// for certain now, so no later delivery brings it back.
pub(crate) async fn confirm_uninstall(tx: &mut WriteTx, tenant_id: &TenantId, iat: UnixTime) -> Result<()> {
    let sql = "UPDATE installations SET given_up_at = NULL, \
               last_event_iat = CASE WHEN last_event_iat > $2 THEN last_event_iat ELSE $2 END \
               WHERE tenant_id = $1 AND given_up_at IS NOT NULL";
    on_tx!(tx, conn => sqlx::query(sql).bind(tenant_id).bind(iat).execute(conn).await?.rows_affected());
    Ok(())
}
