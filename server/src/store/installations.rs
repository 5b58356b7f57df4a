//! The `installations` table: one row per tenant, keyed by the tenant's own
//! id. A Connect tenant also has its clientKey (unique) and sealed shared
//! secret; a tenant born on Forge has neither, and is found by its
//! installationId or by its site (cloudId) and Forge environment.

use super::{Database, WriteTx};
use crate::{
    connect::lifecycle::InstallState,
    error::Result,
    host_ids::{BaseUrl, ClientKey, CloudId, InstallationId},
    secrets::SealedSecret,
    tenant_id::TenantId,
};

const COLUMNS: &str = "tenant_id, client_key, base_url, display_url, product_type, description, app_key, \
    oauth_client_id, service_entitlement_number, installation_id, secret_ciphertext, secret_key_id, state, \
    install_generation, install_signature, first_installed_at, last_installed_at, last_event_at, last_event_iat, \
    last_install_iat, uninstalled_at, orphaned_at, last_install_token, cloud_id, environment_id, environment_type";

/// Active: installed or enabled, and not superseded.
const ACTIVE: &str = "orphaned_at IS NULL AND state IN ('installed', 'enabled')";
const NEWEST_FIRST: &str = "ORDER BY last_installed_at DESC, tenant_id";

#[derive(Clone, sqlx::FromRow)]
pub struct Installation {
    pub tenant_id: TenantId,
    /// The Connect clientKey; none for a tenant born on Forge.
    pub client_key: Option<ClientKey>,
    /// The site's URL (Connect's `baseUrl`, Forge's `siteUrl`).
    pub base_url: BaseUrl,
    pub display_url: Option<String>,
    pub product_type: Option<String>,
    pub description: Option<String>,
    pub app_key: Option<String>,
    pub oauth_client_id: Option<String>,
    pub service_entitlement_number: Option<String>,
    pub installation_id: Option<InstallationId>,
    pub secret_ciphertext: Option<Vec<u8>>,
    pub secret_key_id: Option<String>,
    #[sqlx(try_from = "String")]
    pub state: InstallState,
    pub install_generation: i64,
    pub install_signature: String,
    pub first_installed_at: i64,
    pub last_installed_at: i64,
    pub last_event_at: i64,
    pub last_event_iat: i64,
    pub last_install_iat: i64,
    pub uninstalled_at: Option<i64>,
    pub orphaned_at: Option<i64>,
    pub last_install_token: Option<String>,
    /// The site's stable Forge id, learned from verified Forge calls.
    pub cloud_id: Option<CloudId>,
    /// The Forge environment (`app.environment`) the installation runs in.
    pub environment_id: Option<String>,
    pub environment_type: Option<String>,
}

#[cfg(test)]
impl Installation {
    /// An active Connect installation of `client_key`, for unit tests.
    pub(crate) fn fixture(client_key: &str, generation: i64) -> Self {
        Self {
            tenant_id: TenantId::from_trusted(client_key),
            client_key: Some(ClientKey::new(client_key)),
            base_url: BaseUrl::new("https://acme.atlassian.net"),
            display_url: None,
            product_type: Some("jira".into()),
            description: None,
            app_key: Some("app".into()),
            oauth_client_id: None,
            service_entitlement_number: None,
            installation_id: None,
            secret_ciphertext: Some(vec![1, 2, 3]),
            secret_key_id: Some("k1".into()),
            state: InstallState::Installed,
            install_generation: generation,
            install_signature: "rs256".into(),
            first_installed_at: 0,
            last_installed_at: 0,
            last_event_at: 0,
            last_event_iat: 0,
            last_install_iat: 0,
            uninstalled_at: None,
            orphaned_at: None,
            last_install_token: None,
            cloud_id: None,
            environment_id: None,
            environment_type: None,
        }
    }
}

impl Installation {
    /// Installed or enabled, and not superseded by a site import.
    pub fn is_active(&self) -> bool {
        matches!(self.state, InstallState::Installed | InstallState::Enabled) && self.orphaned_at.is_none()
    }

    /// Connect only, Connect-on-Forge (a verified install or Forge event
    /// joined a Forge installation), or Forge (born on Forge, no Connect side).
    pub fn world(&self) -> &'static str {
        match (&self.client_key, &self.installation_id) {
            (None, _) => "Forge",
            (Some(_), Some(_)) => "Connect-on-Forge",
            (Some(_), None) => "Connect only",
        }
    }

    /// The clientKey, or the tenant id where there is none: how logs and pages name the tenant.
    pub fn name(&self) -> &str {
        self.client_key.as_deref().unwrap_or(self.tenant_id.as_str())
    }

    /// The sealed shared secret with the clientKey it is bound to; a Forge tenant has none.
    pub(crate) fn sealed_secret(&self) -> Option<(&str, SealedSecret)> {
        let (client_key, ciphertext, key_id) =
            (self.client_key.as_deref()?, self.secret_ciphertext.as_ref()?, self.secret_key_id.as_ref()?);
        Some((client_key, SealedSecret { key_id: key_id.clone(), ciphertext: ciphertext.clone() }))
    }
}

impl std::fmt::Debug for Installation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Installation")
            .field("tenant_id", &self.tenant_id)
            .field("client_key", &self.client_key)
            .field("base_url", &self.base_url)
            .field("state", &self.state)
            .field("install_generation", &self.install_generation)
            .field("orphaned_at", &self.orphaned_at)
            .finish_non_exhaustive()
    }
}

/// The fields an accepted Connect `installed` writes.
pub(crate) struct InstallFields<'a> {
    pub client_key: &'a str,
    pub base_url: &'a str,
    pub display_url: Option<&'a str>,
    pub product_type: Option<&'a str>,
    pub description: Option<&'a str>,
    pub app_key: &'a str,
    pub oauth_client_id: Option<&'a str>,
    pub service_entitlement_number: Option<&'a str>,
    pub installation_id: Option<&'a str>,
    pub sealed: &'a SealedSecret,
    pub signature: &'a str,
    pub now: i64,
    pub iat: i64,
    /// Fingerprint of the token that signed this install, if one did.
    pub token_fingerprint: Option<&'a str>,
}

/// What a verified Forge `installed` writes for a tenant born on Forge.
pub(crate) struct ForgeTenantFields<'a> {
    pub tenant_id: &'a TenantId,
    pub installation_id: &'a str,
    pub cloud_id: &'a str,
    pub site_url: &'a str,
    pub product_type: Option<&'a str>,
    pub environment_id: &'a str,
    pub environment_type: &'a str,
    pub now: i64,
    pub iat: i64,
}

/// The tenant `tenant_id`, as the database holds it now.
pub async fn find(db: &Database, tenant_id: &TenantId) -> Result<Option<Installation>> {
    let sql = format!("SELECT {COLUMNS} FROM installations WHERE tenant_id = $1");
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(tenant_id).fetch_optional(pool).await?))
}

/// The Connect tenant of `client_key`, as the database holds it now.
pub async fn find_by_client_key(db: &Database, client_key: &str) -> Result<Option<Installation>> {
    let sql = format!("SELECT {COLUMNS} FROM installations WHERE client_key = $1");
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(client_key).fetch_optional(pool).await?))
}

/// The tenant for verifying a request (a session token names its id): this
/// instance's copy when it read the row less than `installation_cache::FRESH_FOR`
/// ago, else the database's. Lifecycle decisions never use it: they read the
/// row inside their write transaction.
pub(crate) async fn find_recent(db: &Database, tenant_id: &TenantId) -> Result<Option<Installation>> {
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
pub(crate) fn cached_by_client_key(db: &Database, client_key: &str) -> Option<Installation> {
    db.installations.get(&format!("c:{client_key}"))
}

/// As [`find_recent`], by clientKey (a host JWT names its tenant by `iss`).
pub(crate) async fn find_recent_by_client_key(db: &Database, client_key: &str) -> Result<Option<Installation>> {
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

pub(crate) async fn find_in(tx: &mut WriteTx, tenant_id: &TenantId) -> Result<Option<Installation>> {
    let sql = format!("SELECT {COLUMNS} FROM installations WHERE tenant_id = $1");
    Ok(on_tx!(tx, conn => sqlx::query_as(&sql).bind(tenant_id).fetch_optional(conn).await?))
}

pub(crate) async fn find_by_client_key_in(tx: &mut WriteTx, client_key: &str) -> Result<Option<Installation>> {
    let sql = format!("SELECT {COLUMNS} FROM installations WHERE client_key = $1");
    Ok(on_tx!(tx, conn => sqlx::query_as(&sql).bind(client_key).fetch_optional(conn).await?))
}

/// The installation a base URL means today: the newest active one (seed 000:
/// after a site import, lookups by base URL must return the new clientKey).
pub async fn newest_active_by_base_url(db: &Database, base_url: &str) -> Result<Option<Installation>> {
    let sql = format!("SELECT {COLUMNS} FROM installations WHERE base_url = $1 AND {ACTIVE} {NEWEST_FIRST} LIMIT 1");
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(base_url.trim_end_matches('/')).fetch_optional(pool).await?))
}

/// The active tenant a Forge call names by its `installationId`.
pub(crate) async fn find_active_by_installation_id(
    db: &Database,
    installation_id: &str,
) -> Result<Option<Installation>> {
    let sql =
        format!("SELECT {COLUMNS} FROM installations WHERE installation_id = $1 AND {ACTIVE} {NEWEST_FIRST} LIMIT 1");
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(installation_id).fetch_optional(pool).await?))
}

/// The tenant that holds `installation_id` now, whatever its state (a
/// retried Forge event meets a tenant it already changed).
pub(crate) async fn find_by_installation_id(db: &Database, installation_id: &str) -> Result<Option<Installation>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM installations WHERE installation_id = $1 AND orphaned_at IS NULL {NEWEST_FIRST} LIMIT 1"
    );
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(installation_id).fetch_optional(pool).await?))
}

pub(crate) async fn find_by_installation_id_in(
    tx: &mut WriteTx,
    installation_id: &str,
) -> Result<Option<Installation>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM installations WHERE installation_id = $1 AND orphaned_at IS NULL {NEWEST_FIRST} LIMIT 1"
    );
    Ok(on_tx!(tx, conn => sqlx::query_as(&sql).bind(installation_id).fetch_optional(conn).await?))
}

/// The tenants of the site with this cloudId that are not orphaned, active
/// or not (until purged), newest first.
pub(crate) async fn on_site_in(tx: &mut WriteTx, cloud_id: &str) -> Result<Vec<Installation>> {
    let sql = format!("SELECT {COLUMNS} FROM installations WHERE cloud_id = $1 AND orphaned_at IS NULL {NEWEST_FIRST}");
    Ok(on_tx!(tx, conn => sqlx::query_as(&sql).bind(cloud_id).fetch_all(conn).await?))
}

/// A tenant born on Forge installed again (after a verified `installed`
/// named its site): the new installation, a new generation, not uninstalled.
pub(crate) async fn reinstall_forge(
    tx: &mut WriteTx,
    tenant_id: &TenantId,
    installation_id: &str,
    now: i64,
    iat: i64,
) -> Result<()> {
    let sql = "UPDATE installations SET installation_id = $2, state = 'installed', uninstalled_at = NULL, \
               install_generation = install_generation + 1, last_installed_at = $3, last_event_at = $3, \
               last_event_iat = $4, last_install_iat = $4 WHERE tenant_id = $1 AND client_key IS NULL";
    on_tx!(tx, conn => sqlx::query(sql).bind(tenant_id).bind(installation_id).bind(now).bind(iat)
        .execute(conn).await?.rows_affected());
    Ok(())
}

/// The active installation of the site with this cloudId.
pub(crate) async fn find_active_by_cloud_id(db: &Database, cloud_id: &str) -> Result<Option<Installation>> {
    let sql = format!("SELECT {COLUMNS} FROM installations WHERE cloud_id = $1 AND {ACTIVE} {NEWEST_FIRST} LIMIT 1");
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(cloud_id).fetch_optional(pool).await?))
}

/// Points the tenant at its current Forge installation, site and
/// environment (only after a verified Forge event or install said so).
pub(crate) async fn set_forge_identity(
    tx: &mut WriteTx,
    tenant_id: &TenantId,
    installation_id: &str,
    cloud_id: Option<&str>,
    environment: Option<(&str, &str)>,
) -> Result<()> {
    let sql = "UPDATE installations SET installation_id = $2, cloud_id = COALESCE($3, cloud_id), \
               environment_id = COALESCE($4, environment_id), environment_type = COALESCE($5, environment_type) \
               WHERE tenant_id = $1";
    let (env_id, env_type) = environment.unzip();
    on_tx!(tx, conn => sqlx::query(sql).bind(tenant_id).bind(installation_id).bind(cloud_id).bind(env_id)
        .bind(env_type).execute(conn).await?.rows_affected());
    Ok(())
}

/// What a verified FIT teaches about a tenant that does not know it yet:
/// its site's cloudId and its Forge environment, each kept once learned.
pub(crate) async fn learn_site(
    tx: &mut WriteTx,
    tenant_id: &TenantId,
    cloud_id: Option<&str>,
    environment: Option<(&str, &str)>,
) -> Result<bool> {
    let sql = "UPDATE installations SET cloud_id = COALESCE(cloud_id, $2), \
               environment_id = COALESCE(environment_id, $3), environment_type = COALESCE(environment_type, $4) \
               WHERE tenant_id = $1 \
               AND ((cloud_id IS NULL AND $2 IS NOT NULL) OR (environment_id IS NULL AND $3 IS NOT NULL))";
    let (env_id, env_type) = environment.unzip();
    let changed = on_tx!(tx, conn => sqlx::query(sql).bind(tenant_id).bind(cloud_id).bind(env_id).bind(env_type)
        .execute(conn).await?.rows_affected());
    Ok(changed == 1)
}

/// A Forge tenant's site was renamed: the FIT's `siteUrl` is its base URL now.
pub(crate) async fn rename_site(tx: &mut WriteTx, tenant_id: &TenantId, site_url: &str) -> Result<bool> {
    let sql = "UPDATE installations SET base_url = $2 WHERE tenant_id = $1 AND base_url <> $2 AND client_key IS NULL";
    let changed =
        on_tx!(tx, conn => sqlx::query(sql).bind(tenant_id).bind(site_url).execute(conn).await?.rows_affected());
    Ok(changed == 1)
}

/// Every installation ever recorded for a base URL, newest first.
pub(crate) async fn all_for_base_url(db: &Database, base_url: &str) -> Result<Vec<Installation>> {
    let sql = format!("SELECT {COLUMNS} FROM installations WHERE base_url = $1 {NEWEST_FIRST}");
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(base_url).fetch_all(pool).await?))
}

pub async fn list(db: &Database) -> Result<Vec<Installation>> {
    let sql = format!("SELECT {COLUMNS} FROM installations ORDER BY last_event_at DESC, tenant_id");
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await?))
}

/// Does a Connect tenant other than `client_key`'s hold this base URL?
/// (Forge tenants are found by cloudId and never make a Connect install unsigned-proof.)
pub(crate) async fn base_url_taken(tx: &mut WriteTx, base_url: &str, except: &str) -> Result<bool> {
    let sql = "SELECT COUNT(*) FROM installations WHERE base_url = $1 AND client_key IS NOT NULL \
               AND client_key <> $2 AND orphaned_at IS NULL AND state IN ('installed', 'enabled', 'disabled')";
    let count: i64 = on_tx!(tx, conn => sqlx::query_scalar(sql).bind(base_url).bind(except).fetch_one(conn).await?);
    Ok(count > 0)
}

/// A new Connect tenant.
pub(crate) async fn insert(tx: &mut WriteTx, tenant_id: &TenantId, f: &InstallFields<'_>) -> Result<()> {
    let sql = format!(
        "INSERT INTO installations ({COLUMNS}) VALUES ($15, \
         $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'installed', 1, $12, $13, $13, $13, $14, $14, NULL, NULL, $16, \
         NULL, NULL, NULL)"
    );
    on_tx!(tx, conn => {
        let query = bind_fields(sqlx::query(&sql), f).bind(tenant_id).bind(f.token_fingerprint);
        query.execute(conn).await?.rows_affected()
    });
    Ok(())
}

/// A new tenant born on Forge: no clientKey, no secret.
pub(crate) async fn insert_forge(tx: &mut WriteTx, f: &ForgeTenantFields<'_>) -> Result<()> {
    let sql = format!(
        "INSERT INTO installations ({COLUMNS}) VALUES ($1, NULL, $2, NULL, $3, NULL, NULL, NULL, NULL, $4, NULL, NULL, \
         'installed', 1, 'fit', $5, $5, $5, $6, $6, NULL, NULL, NULL, $7, $8, $9)"
    );
    on_tx!(tx, conn => sqlx::query(&sql).bind(f.tenant_id).bind(f.site_url).bind(f.product_type)
        .bind(f.installation_id).bind(f.now).bind(f.iat).bind(f.cloud_id).bind(f.environment_id)
        .bind(f.environment_type).execute(conn).await?.rows_affected());
    Ok(())
}

/// An accepted reinstall: new secret, next generation, not orphaned any more.
pub(crate) async fn reinstall(
    tx: &mut WriteTx,
    tenant_id: &TenantId,
    f: &InstallFields<'_>,
    state: InstallState,
) -> Result<()> {
    let sql = "UPDATE installations SET client_key = $1, base_url = $2, display_url = $3, product_type = $4, \
               description = $5, app_key = $6, oauth_client_id = $7, service_entitlement_number = $8, \
               installation_id = COALESCE($9, installation_id), secret_ciphertext = $10, secret_key_id = $11, \
               install_signature = $12, last_installed_at = $13, last_event_at = $13, last_event_iat = $14, \
               last_install_iat = $14, state = $15, install_generation = install_generation + 1, \
               uninstalled_at = NULL, orphaned_at = NULL, last_install_token = $16 WHERE tenant_id = $17";
    on_tx!(tx, conn => {
        let query = bind_fields(sqlx::query(sql), f).bind(state.as_str()).bind(f.token_fingerprint).bind(tenant_id);
        query.execute(conn).await?.rows_affected()
    });
    Ok(())
}

fn bind_fields<'q, DB: sqlx::Database>(
    query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    f: &'q InstallFields<'q>,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q [u8]: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    query
        .bind(f.client_key)
        .bind(f.base_url)
        .bind(f.display_url)
        .bind(f.product_type)
        .bind(f.description)
        .bind(f.app_key)
        .bind(f.oauth_client_id)
        .bind(f.service_entitlement_number)
        .bind(f.installation_id)
        .bind(f.sealed.ciphertext.as_slice())
        .bind(f.sealed.key_id.as_str())
        .bind(f.signature)
        .bind(f.now)
        .bind(f.iat)
}

pub(crate) async fn set_state(
    tx: &mut WriteTx,
    tenant_id: &TenantId,
    state: InstallState,
    now: i64,
    event_iat: i64,
) -> Result<()> {
    let uninstalled_at = (state == InstallState::Uninstalled).then_some(now);
    let sql = "UPDATE installations SET state = $2, last_event_at = $3, last_event_iat = $4, \
               uninstalled_at = COALESCE($5, uninstalled_at) WHERE tenant_id = $1";
    on_tx!(tx, conn => sqlx::query(sql).bind(tenant_id).bind(state.as_str()).bind(now).bind(event_iat)
        .bind(uninstalled_at).execute(conn).await?.rows_affected());
    Ok(())
}

/// Marks every other not-yet-orphaned Connect tenant of `base_url` as an
/// orphan (a site import gave the site a new clientKey). Returns their ids.
pub(crate) async fn orphan_others(
    tx: &mut WriteTx,
    base_url: &str,
    keep: &TenantId,
    now: i64,
) -> Result<Vec<TenantId>> {
    let which = "base_url = $1 AND tenant_id <> $2 AND client_key IS NOT NULL AND orphaned_at IS NULL";
    orphan_where(tx, which, base_url, keep, now).await
}

/// Marks the tenants born on Forge that hold `installation_id`, other than
/// `keep`, as orphans: a signed Connect install put that installation on
/// another tenant. Returns their ids.
pub(crate) async fn orphan_other_holders(
    tx: &mut WriteTx,
    installation_id: &str,
    keep: &TenantId,
    now: i64,
) -> Result<Vec<TenantId>> {
    let which = "installation_id = $1 AND tenant_id <> $2 AND client_key IS NULL AND orphaned_at IS NULL";
    orphan_where(tx, which, installation_id, keep, now).await
}

async fn orphan_where(tx: &mut WriteTx, which: &str, value: &str, keep: &TenantId, now: i64) -> Result<Vec<TenantId>> {
    let select = format!("SELECT tenant_id FROM installations WHERE {which}");
    let update = format!("UPDATE installations SET orphaned_at = $3 WHERE {which}");
    let ids: Vec<TenantId> =
        on_tx!(tx, conn => sqlx::query_scalar(&select).bind(value).bind(keep).fetch_all(&mut *conn).await?);
    on_tx!(tx, conn => sqlx::query(&update).bind(value).bind(keep).bind(now).execute(conn).await?.rows_affected());
    Ok(ids)
}

/// Gives a tenant born on Forge its Connect side: the clientKey and secret
/// of a signed install that named its installationId.
pub(crate) async fn join_connect(tx: &mut WriteTx, tenant_id: &TenantId, f: &InstallFields<'_>) -> Result<()> {
    let sql = "UPDATE installations SET client_key = $1, base_url = $2, display_url = $3, \
               product_type = COALESCE($4, product_type), description = $5, app_key = $6, oauth_client_id = $7, \
               service_entitlement_number = $8, installation_id = COALESCE($9, installation_id), \
               secret_ciphertext = $10, secret_key_id = $11, install_signature = $12, last_installed_at = $13, \
               last_event_at = $13, last_event_iat = $14, last_install_iat = $14, last_install_token = $15 \
               WHERE tenant_id = $16 AND client_key IS NULL";
    on_tx!(tx, conn => {
        let query = bind_fields(sqlx::query(sql), f).bind(f.token_fingerprint).bind(tenant_id);
        query.execute(conn).await?.rows_affected()
    });
    Ok(())
}

/// Replaces a sealed secret only if the row still holds `expected` (a
/// reinstall racing with a key rotation wins). Returns whether it replaced.
pub(crate) async fn replace_sealed_secret(
    db: &Database,
    tenant_id: &TenantId,
    expected: &[u8],
    new: &SealedSecret,
) -> Result<bool> {
    let sql = "UPDATE installations SET secret_ciphertext = $3, secret_key_id = $4 \
               WHERE tenant_id = $1 AND secret_ciphertext = $2";
    let done = on_pool!(db, pool => sqlx::query(sql).bind(tenant_id).bind(expected).bind(new.ciphertext.as_slice())
        .bind(new.key_id.as_str()).execute(pool).await?.rows_affected());
    db.installations.changed();
    Ok(done == 1)
}

/// How many rows each encryption key id seals.
pub async fn key_ids_in_use(db: &Database) -> Result<Vec<(String, i64)>> {
    let sql = "SELECT secret_key_id, COUNT(*) FROM installations WHERE secret_key_id IS NOT NULL \
               GROUP BY secret_key_id ORDER BY secret_key_id";
    Ok(on_pool!(db, pool => sqlx::query_as(sql).fetch_all(pool).await?))
}
