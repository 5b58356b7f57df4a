//! Retention: orphans (superseded by a site import) and uninstalled
//! installations older than the retention window are deleted with all their
//! tenant data (seed 000: orphans are kept 30 days, then purged). Each purge
//! is recorded in `purge_log`, which outlives the installation.

use ids::{BaseUrl, ClientKey, TenantId, UnixTime};
use serde::Serialize;

use super::Database;
use crate::error::Result;

/// Tables holding data that belongs to one tenant, by `tenant_id`.
const TENANT_TABLES: &[&str] = &[
    "notes", // demo
    "lifecycle_events",
    "forge_system_tokens",
    "tenant_identities",
    // Before its jobs: a job queued in between is then counted afresh, never left uncounted.
    "webhook_tenants",
    "webhook_jobs",
    "activity", // demo
];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Expired {
    pub tenant_id: TenantId,
    pub client_key: Option<ClientKey>,
    pub base_url: BaseUrl,
    pub reason: String,
    /// When it became inactive (orphaned or uninstalled).
    pub inactive_since: UnixTime,
}

const EXPIRED_SQL: &str = "SELECT tenant_id, client_key, base_url, \
      CASE WHEN orphaned_at IS NOT NULL AND orphaned_at < $1 THEN 'orphaned' ELSE 'uninstalled' END AS reason, \
      CASE WHEN orphaned_at IS NOT NULL AND orphaned_at < $1 THEN orphaned_at ELSE uninstalled_at END \
        AS inactive_since \
    FROM installations \
    WHERE (orphaned_at IS NOT NULL AND orphaned_at < $1) OR (state = 'uninstalled' AND uninstalled_at < $1) \
    ORDER BY tenant_id";

/// What a purge at `now` would delete (`--dry-run`).
pub async fn expired(db: &Database, now: UnixTime, retention_secs: i64) -> Result<Vec<Expired>> {
    let cutoff = now - retention_secs;
    Ok(on_pool!(db, pool => sqlx::query_as(EXPIRED_SQL).bind(cutoff).fetch_all(pool).await?))
}

/// Deletes every expired installation with its data. Each one is its own
/// transaction that re-checks the condition, so a reinstall that lands in
/// between keeps its installation.
pub(crate) async fn purge_expired(db: &Database, now: UnixTime, retention_secs: i64) -> Result<Vec<Expired>> {
    let mut purged = Vec::new();
    for candidate in expired(db, now, retention_secs).await? {
        // One tenant that cannot be purged (a vendor's table that refuses the
        // delete, say) must not stop the others, nor hide those already done.
        match purge_one(db, &candidate, now, now - retention_secs).await {
            Ok(true) => {
                tracing::info!(tenant_id = %candidate.tenant_id, reason = %candidate.reason, "purged installation");
                purged.push(candidate);
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(tenant_id = %candidate.tenant_id, error = %e, "could not purge; will retry"),
        }
    }
    Ok(purged)
}

/// Deletes `candidate` with its data and logs why, if it was still
/// inactive before `cutoff` when the transaction looked.
pub(crate) async fn purge_one(db: &Database, candidate: &Expired, now: UnixTime, cutoff: UnixTime) -> Result<bool> {
    let delete = "DELETE FROM installations WHERE tenant_id = $1 AND \
                  ((orphaned_at IS NOT NULL AND orphaned_at < $2) OR (state = 'uninstalled' AND uninstalled_at < $2))";
    let log = "INSERT INTO purge_log (tenant_id, client_key, base_url, reason, purged_at) VALUES ($1, $2, $3, $4, $5)";
    let mut tx = db.begin_write().await?;
    let deleted = on_tx!(&mut tx, conn => {
        sqlx::query(delete).bind(&candidate.tenant_id).bind(cutoff).execute(conn).await?.rows_affected()
    });
    if deleted == 1 {
        for table in TENANT_TABLES {
            let sql = format!("DELETE FROM {table} WHERE tenant_id = $1");
            on_tx!(&mut tx, conn => sqlx::query(&sql).bind(&candidate.tenant_id).execute(conn).await?.rows_affected());
        }
        on_tx!(&mut tx, conn => sqlx::query(log).bind(&candidate.tenant_id).bind(&candidate.client_key)
            .bind(&candidate.base_url).bind(&candidate.reason).bind(now).execute(conn).await?.rows_affected());
    }
    tx.commit().await?;
    Ok(deleted == 1)
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct PurgeRecord {
    pub tenant_id: TenantId,
    pub client_key: Option<ClientKey>,
    pub base_url: BaseUrl,
    pub reason: String,
    pub purged_at: UnixTime,
}

pub async fn log(db: &Database, limit: i64) -> Result<Vec<PurgeRecord>> {
    let sql = "SELECT tenant_id, client_key, base_url, reason, purged_at FROM purge_log ORDER BY id DESC LIMIT $1";
    Ok(on_pool!(db, pool => sqlx::query_as(sql).bind(limit).fetch_all(pool).await?))
}
