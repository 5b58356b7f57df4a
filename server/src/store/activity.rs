//! The `activity` table: the product events the demo handler recorded for a
//! tenant. One row per delivery id, so a job run twice records once.

use ids::{TenantId, UnixTime};

use super::Database;
use crate::error::Result;

#[derive(Clone, Debug, sqlx::FromRow)]
pub(crate) struct ActivityRow {
    pub event: String,
    pub delivery_id: String,
    pub entity_key: Option<String>,
    pub summary: String,
    pub processed_at: UnixTime,
}

pub(crate) async fn record(db: &Database, tenant_id: &TenantId, row: &ActivityRow) -> Result<()> {
    let sql = "INSERT INTO activity (tenant_id, delivery_id, event, entity_key, summary, processed_at) \
               VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, delivery_id) DO NOTHING";
    on_pool!(db, pool => sqlx::query(sql).bind(tenant_id).bind(&row.delivery_id).bind(&row.event)
        .bind(&row.entity_key).bind(&row.summary).bind(row.processed_at).execute(pool).await?.rows_affected());
    Ok(())
}

/// The tenant's newest events, newest first.
pub(crate) async fn recent(db: &Database, tenant_id: &TenantId, limit: i64) -> Result<Vec<ActivityRow>> {
    let sql = "SELECT event, delivery_id, entity_key, summary, processed_at FROM activity WHERE tenant_id = $1 \
               ORDER BY id DESC LIMIT $2";
    Ok(on_pool!(db, pool => sqlx::query_as(sql).bind(tenant_id).bind(limit).fetch_all(pool).await?))
}

/// The tenant's newest events about one issue or page, newest first.
pub(crate) async fn for_entity(
    db: &Database,
    tenant_id: &TenantId,
    entity_key: &str,
    limit: i64,
) -> Result<Vec<ActivityRow>> {
    let sql = "SELECT event, delivery_id, entity_key, summary, processed_at FROM activity \
               WHERE tenant_id = $1 AND entity_key = $2 ORDER BY id DESC LIMIT $3";
    Ok(on_pool!(db, pool => sqlx::query_as(sql).bind(tenant_id).bind(entity_key).bind(limit).fetch_all(pool).await?))
}
