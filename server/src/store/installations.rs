//! The `installations` table: one row per clientKey.

use super::{Database, WriteTx};
use crate::{connect::lifecycle::InstallState, error::Result, secrets::SealedSecret};

const COLUMNS: &str = "client_key, base_url, display_url, product_type, description, app_key, oauth_client_id, \
    service_entitlement_number, installation_id, secret_ciphertext, secret_key_id, state, install_generation, \
    install_signature, first_installed_at, last_installed_at, last_event_at, last_event_iat, last_install_iat, \
    uninstalled_at, orphaned_at, last_install_token, cloud_id";

#[derive(Clone, sqlx::FromRow)]
pub struct Installation {
    pub client_key: String,
    pub base_url: String,
    pub display_url: Option<String>,
    pub product_type: Option<String>,
    pub description: Option<String>,
    pub app_key: String,
    pub oauth_client_id: Option<String>,
    pub service_entitlement_number: Option<String>,
    pub installation_id: Option<String>,
    pub secret_ciphertext: Vec<u8>,
    pub secret_key_id: String,
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
    pub cloud_id: Option<String>,
}

impl Installation {
    /// Installed or enabled, and not superseded by a site import.
    pub fn is_active(&self) -> bool {
        matches!(self.state, InstallState::Installed | InstallState::Enabled) && self.orphaned_at.is_none()
    }

    /// Connect only, or Connect-on-Forge once a verified install or Forge
    /// event joined a Forge installation.
    pub fn world(&self) -> &'static str {
        if self.installation_id.is_some() { "Connect-on-Forge" } else { "Connect only" }
    }

    pub(crate) fn sealed_secret(&self) -> SealedSecret {
        SealedSecret { key_id: self.secret_key_id.clone(), ciphertext: self.secret_ciphertext.clone() }
    }
}

impl std::fmt::Debug for Installation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Installation")
            .field("client_key", &self.client_key)
            .field("base_url", &self.base_url)
            .field("state", &self.state)
            .field("install_generation", &self.install_generation)
            .field("orphaned_at", &self.orphaned_at)
            .finish_non_exhaustive()
    }
}

/// The fields an accepted `installed` writes.
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

/// The installation of `client_key`, as the database holds it now.
pub async fn find(db: &Database, client_key: &str) -> Result<Option<Installation>> {
    let sql = format!("SELECT {COLUMNS} FROM installations WHERE client_key = $1");
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(client_key).fetch_optional(pool).await?))
}

/// The installation of `client_key` for verifying a request: this instance's
/// copy when it read the row less than `installation_cache::FRESH_FOR` ago,
/// else the database's. Lifecycle decisions never use it: they read the row
/// inside their write transaction.
pub(crate) async fn find_recent(db: &Database, client_key: &str) -> Result<Option<Installation>> {
    if let Some(cached) = db.installations.get(client_key) {
        return Ok(Some(cached));
    }
    let epoch = db.installations.epoch();
    let found = find(db, client_key).await?;
    if let Some(installation) = &found {
        db.installations.put(epoch, installation);
    }
    Ok(found)
}

pub(crate) async fn find_in(tx: &mut WriteTx, client_key: &str) -> Result<Option<Installation>> {
    let sql = format!("SELECT {COLUMNS} FROM installations WHERE client_key = $1");
    Ok(on_tx!(tx, conn => sqlx::query_as(&sql).bind(client_key).fetch_optional(conn).await?))
}

/// The installation a base URL means today: the newest active one (seed 000:
/// after a site import, lookups by base URL must return the new clientKey).
pub async fn newest_active_by_base_url(db: &Database, base_url: &str) -> Result<Option<Installation>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM installations WHERE base_url = $1 AND orphaned_at IS NULL \
         AND state IN ('installed', 'enabled') ORDER BY last_installed_at DESC, client_key LIMIT 1"
    );
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(base_url.trim_end_matches('/')).fetch_optional(pool).await?))
}

/// The active installation a Forge call names by its `installationId`.
pub(crate) async fn find_active_by_installation_id(
    db: &Database,
    installation_id: &str,
) -> Result<Option<Installation>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM installations WHERE installation_id = $1 AND orphaned_at IS NULL \
         AND state IN ('installed', 'enabled') ORDER BY last_installed_at DESC, client_key LIMIT 1"
    );
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(installation_id).fetch_optional(pool).await?))
}

/// The installation that holds `installation_id` now, whatever its state
/// (a retried Forge event meets an installation it already changed).
pub(crate) async fn find_by_installation_id(db: &Database, installation_id: &str) -> Result<Option<Installation>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM installations WHERE installation_id = $1 AND orphaned_at IS NULL \
         ORDER BY last_installed_at DESC, client_key LIMIT 1"
    );
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(installation_id).fetch_optional(pool).await?))
}

/// The active installation of the site with this cloudId.
pub(crate) async fn find_active_by_cloud_id(db: &Database, cloud_id: &str) -> Result<Option<Installation>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM installations WHERE cloud_id = $1 AND orphaned_at IS NULL \
         AND state IN ('installed', 'enabled') ORDER BY last_installed_at DESC, client_key LIMIT 1"
    );
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(cloud_id).fetch_optional(pool).await?))
}

/// Points the tenant at its current Forge installation and site id (only
/// after a verified Forge event or call said so).
pub(crate) async fn set_forge_identity(
    tx: &mut WriteTx,
    client_key: &str,
    installation_id: &str,
    cloud_id: Option<&str>,
) -> Result<()> {
    let sql = "UPDATE installations SET installation_id = $2, cloud_id = COALESCE($3, cloud_id) WHERE client_key = $1";
    on_tx!(tx, conn => sqlx::query(sql).bind(client_key).bind(installation_id).bind(cloud_id)
        .execute(conn).await?.rows_affected());
    Ok(())
}

/// Keeps the cloudId a verified FIT names for a tenant that has none yet.
pub(crate) async fn learn_cloud_id(db: &Database, client_key: &str, cloud_id: &str, now: i64) -> Result<()> {
    let mut tx = db.begin_write().await?;
    let sql = "UPDATE installations SET cloud_id = $2 WHERE client_key = $1 AND cloud_id IS NULL";
    let set =
        on_tx!(&mut tx, conn => sqlx::query(sql).bind(client_key).bind(cloud_id).execute(conn).await?.rows_affected());
    if set == 1 {
        super::identities::record(&mut tx, client_key, super::identities::IdentityKind::CloudId, cloud_id, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Every installation ever recorded for a base URL, newest first.
pub(crate) async fn all_for_base_url(db: &Database, base_url: &str) -> Result<Vec<Installation>> {
    let sql =
        format!("SELECT {COLUMNS} FROM installations WHERE base_url = $1 ORDER BY last_installed_at DESC, client_key");
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(base_url).fetch_all(pool).await?))
}

pub async fn list(db: &Database) -> Result<Vec<Installation>> {
    let sql = format!("SELECT {COLUMNS} FROM installations ORDER BY last_event_at DESC, client_key");
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await?))
}

pub(crate) async fn base_url_taken(tx: &mut WriteTx, base_url: &str, except: &str) -> Result<bool> {
    let sql = "SELECT COUNT(*) FROM installations WHERE base_url = $1 AND client_key <> $2 \
               AND orphaned_at IS NULL AND state IN ('installed', 'enabled', 'disabled')";
    let count: i64 = on_tx!(tx, conn => sqlx::query_scalar(sql).bind(base_url).bind(except).fetch_one(conn).await?);
    Ok(count > 0)
}

pub(crate) async fn insert(tx: &mut WriteTx, f: &InstallFields<'_>) -> Result<()> {
    let sql = format!(
        "INSERT INTO installations ({COLUMNS}) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'installed', 1, $12, $13, $13, $13, $14, $14, NULL, NULL, $15, \
         NULL)"
    );
    on_tx!(tx, conn => {
        bind_fields(sqlx::query(&sql), f).bind(f.token_fingerprint).execute(conn).await?.rows_affected()
    });
    Ok(())
}

/// An accepted reinstall: new secret, next generation, not orphaned any more.
pub(crate) async fn reinstall(tx: &mut WriteTx, f: &InstallFields<'_>, state: InstallState) -> Result<()> {
    let sql = "UPDATE installations SET base_url = $2, display_url = $3, product_type = $4, \
               description = $5, app_key = $6, oauth_client_id = $7, service_entitlement_number = $8, \
               installation_id = COALESCE($9, installation_id), secret_ciphertext = $10, secret_key_id = $11, \
               install_signature = $12, last_installed_at = $13, last_event_at = $13, last_event_iat = $14, \
               last_install_iat = $14, state = $15, install_generation = install_generation + 1, \
               uninstalled_at = NULL, orphaned_at = NULL, last_install_token = $16 WHERE client_key = $1";
    on_tx!(tx, conn => {
        let query = bind_fields(sqlx::query(sql), f).bind(state.as_str()).bind(f.token_fingerprint);
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
    client_key: &str,
    state: InstallState,
    now: i64,
    event_iat: i64,
) -> Result<()> {
    let uninstalled_at = (state == InstallState::Uninstalled).then_some(now);
    let sql = "UPDATE installations SET state = $2, last_event_at = $3, last_event_iat = $4, \
               uninstalled_at = COALESCE($5, uninstalled_at) WHERE client_key = $1";
    on_tx!(tx, conn => sqlx::query(sql).bind(client_key).bind(state.as_str()).bind(now).bind(event_iat)
        .bind(uninstalled_at).execute(conn).await?.rows_affected());
    Ok(())
}

/// Marks every other not-yet-orphaned installation of `base_url` as an
/// orphan (a site import gave the site a new clientKey). Returns their keys.
pub(crate) async fn orphan_others(tx: &mut WriteTx, base_url: &str, keep: &str, now: i64) -> Result<Vec<String>> {
    let select =
        "SELECT client_key FROM installations WHERE base_url = $1 AND client_key <> $2 AND orphaned_at IS NULL";
    let update =
        "UPDATE installations SET orphaned_at = $3 WHERE base_url = $1 AND client_key <> $2 AND orphaned_at IS NULL";
    let keys: Vec<String> =
        on_tx!(tx, conn => sqlx::query_scalar(select).bind(base_url).bind(keep).fetch_all(&mut *conn).await?);
    on_tx!(tx, conn => sqlx::query(update).bind(base_url).bind(keep).bind(now).execute(conn).await?.rows_affected());
    Ok(keys)
}

/// Replaces a sealed secret only if the row still holds `expected` (a
/// reinstall racing with a key rotation wins). Returns whether it replaced.
pub(crate) async fn replace_sealed_secret(
    db: &Database,
    client_key: &str,
    expected: &[u8],
    new: &SealedSecret,
) -> Result<bool> {
    let sql = "UPDATE installations SET secret_ciphertext = $3, secret_key_id = $4 \
               WHERE client_key = $1 AND secret_ciphertext = $2";
    let done = on_pool!(db, pool => sqlx::query(sql).bind(client_key).bind(expected).bind(new.ciphertext.as_slice())
        .bind(new.key_id.as_str()).execute(pool).await?.rows_affected());
    db.installations.changed();
    Ok(done == 1)
}

/// How many rows each encryption key id seals.
pub async fn key_ids_in_use(db: &Database) -> Result<Vec<(String, i64)>> {
    let sql = "SELECT secret_key_id, COUNT(*) FROM installations GROUP BY secret_key_id ORDER BY secret_key_id";
    Ok(on_pool!(db, pool => sqlx::query_as(sql).fetch_all(pool).await?))
}
