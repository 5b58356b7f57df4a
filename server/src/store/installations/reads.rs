//! Finding installation rows: by tenant, clientKey, installationId, cloudId
//! or base URL, from the database, inside a write, or from the short-lived cache.

use ids::{BaseUrl, ClientKey, CloudId, InstallationId, TenantId};

use super::{ACTIVE, COLUMNS, NEWEST_FIRST, Tenant};
use crate::{
    error::Result,
    store::{Database, WriteTx},
};

/// The tenant `tenant_id`, as the database holds it now.
pub async fn find(db: &Database, tenant_id: &TenantId) -> Result<Option<Tenant>> {
    let sql = format!("SELECT {COLUMNS} FROM installations WHERE tenant_id = $1");
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(tenant_id).fetch_optional(pool).await?))
}

/// The Connect tenant of `client_key`, as the database holds it now.
pub async fn find_by_client_key(db: &Database, client_key: &ClientKey) -> Result<Option<Tenant>> {
    let sql = format!("SELECT {COLUMNS} FROM installations WHERE client_key = $1");
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(client_key).fetch_optional(pool).await?))
}

/// The tenant for verifying a request (a session token names its id): this
/// instance's copy when it read the row less than `installation_cache::FRESH_FOR`
/// ago, else the database's. Lifecycle decisions never use it: they read the
/// row inside their write transaction.
pub(crate) async fn find_recent(db: &Database, tenant_id: &TenantId) -> Result<Option<Tenant>> {
    let key = format!("t:{tenant_id}");
    if let Some(cached) = db.installations.get(&key) {
        return Ok(Some(cached));
    }
    let epoch = db.installations.epoch();
    let found = find(db, tenant_id).await?;
    if let Some(installation) = &found {
        db.installations.put(epoch, key, installation);
    }
    Ok(found)
}

/// The Connect tenant of `client_key` if the short-lived cache holds it; never a database read.
pub(crate) fn cached_by_client_key(db: &Database, client_key: &ClientKey) -> Option<Tenant> {
    db.installations.get(&format!("c:{client_key}"))
}

/// As [`find_recent`], by clientKey (a host JWT names its tenant by `iss`).
pub(crate) async fn find_recent_by_client_key(db: &Database, client_key: &ClientKey) -> Result<Option<Tenant>> {
    let key = format!("c:{client_key}");
    if let Some(cached) = db.installations.get(&key) {
        return Ok(Some(cached));
    }
    let epoch = db.installations.epoch();
    let found = find_by_client_key(db, client_key).await?;
    if let Some(installation) = &found {
        db.installations.put(epoch, key, installation);
    }
    Ok(found)
}

pub(crate) async fn find_in(tx: &mut WriteTx, tenant_id: &TenantId) -> Result<Option<Tenant>> {
    let sql = format!("SELECT {COLUMNS} FROM installations WHERE tenant_id = $1");
    Ok(on_tx!(tx, conn => sqlx::query_as(&sql).bind(tenant_id).fetch_optional(conn).await?))
}

pub(crate) async fn find_by_client_key_in(tx: &mut WriteTx, client_key: &ClientKey) -> Result<Option<Tenant>> {
    let sql = format!("SELECT {COLUMNS} FROM installations WHERE client_key = $1");
    Ok(on_tx!(tx, conn => sqlx::query_as(&sql).bind(client_key).fetch_optional(conn).await?))
}

/// The installation a base URL means today: the newest active one (seed 000:
/// after a site import, lookups by base URL must return the new clientKey).
pub async fn newest_active_by_base_url(db: &Database, base_url: &BaseUrl) -> Result<Option<Tenant>> {
    let sql = format!("SELECT {COLUMNS} FROM installations WHERE base_url = $1 AND {ACTIVE} {NEWEST_FIRST} LIMIT 1");
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(base_url.trim_end_matches('/')).fetch_optional(pool).await?))
}

/// The active tenant a Forge call names by its `installationId`.
pub(crate) async fn find_active_by_installation_id(
    db: &Database,
    installation_id: &InstallationId,
) -> Result<Option<Tenant>> {
    let sql =
        format!("SELECT {COLUMNS} FROM installations WHERE installation_id = $1 AND {ACTIVE} {NEWEST_FIRST} LIMIT 1");
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(installation_id).fetch_optional(pool).await?))
}

/// The tenant that holds `installation_id` now, whatever its state (a
/// retried Forge event meets a tenant it already changed).
pub(crate) async fn find_by_installation_id(db: &Database, installation_id: &InstallationId) -> Result<Option<Tenant>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM installations WHERE installation_id = $1 AND orphaned_at IS NULL {NEWEST_FIRST} LIMIT 1"
    );
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(installation_id).fetch_optional(pool).await?))
}

pub(crate) async fn find_by_installation_id_in(
    tx: &mut WriteTx,
    installation_id: &InstallationId,
) -> Result<Option<Tenant>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM installations WHERE installation_id = $1 AND orphaned_at IS NULL {NEWEST_FIRST} LIMIT 1"
    );
    Ok(on_tx!(tx, conn => sqlx::query_as(&sql).bind(installation_id).fetch_optional(conn).await?))
}

/// The tenants of the site with this cloudId that are not orphaned, active
/// or not (until purged), newest first.
pub(crate) async fn on_site_in(tx: &mut WriteTx, cloud_id: &CloudId) -> Result<Vec<Tenant>> {
    let sql = format!("SELECT {COLUMNS} FROM installations WHERE cloud_id = $1 AND orphaned_at IS NULL {NEWEST_FIRST}");
    Ok(on_tx!(tx, conn => sqlx::query_as(&sql).bind(cloud_id).fetch_all(conn).await?))
}

/// The active installation of the site with this cloudId.
pub(crate) async fn find_active_by_cloud_id(db: &Database, cloud_id: &CloudId) -> Result<Option<Tenant>> {
    let sql = format!("SELECT {COLUMNS} FROM installations WHERE cloud_id = $1 AND {ACTIVE} {NEWEST_FIRST} LIMIT 1");
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(cloud_id).fetch_optional(pool).await?))
}

/// Every installation ever recorded for a base URL, newest first.
pub(crate) async fn all_for_base_url(db: &Database, base_url: &BaseUrl) -> Result<Vec<Tenant>> {
    let sql = format!("SELECT {COLUMNS} FROM installations WHERE base_url = $1 {NEWEST_FIRST}");
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(base_url).fetch_all(pool).await?))
}

pub async fn list(db: &Database) -> Result<Vec<Tenant>> {
    let sql = format!("SELECT {COLUMNS} FROM installations ORDER BY last_event_at DESC, tenant_id");
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await?))
}

/// Does a Connect tenant other than `client_key`'s hold this base URL?
/// (Forge tenants are found by cloudId and never make a Connect install unsigned-proof.)
pub(crate) async fn base_url_taken(tx: &mut WriteTx, base_url: &BaseUrl, except: &ClientKey) -> Result<bool> {
    let sql = "SELECT COUNT(*) FROM installations WHERE base_url = $1 AND client_key IS NOT NULL \
               AND client_key <> $2 AND orphaned_at IS NULL AND state IN ('installed', 'enabled', 'disabled')";
    let count: i64 = on_tx!(tx, conn => sqlx::query_scalar(sql).bind(base_url).bind(except).fetch_one(conn).await?);
    Ok(count > 0)
}

/// How many rows each encryption key id seals.
pub async fn key_ids_in_use(db: &Database) -> Result<Vec<(String, i64)>> {
    let sql = "SELECT secret_key_id, COUNT(*) FROM installations WHERE secret_key_id IS NOT NULL \
               GROUP BY secret_key_id ORDER BY secret_key_id";
    Ok(on_pool!(db, pool => sqlx::query_as(sql).fetch_all(pool).await?))
}
