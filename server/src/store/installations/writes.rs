//! Changing installation rows, always inside the caller's write transaction.

use ids::{BaseUrl, CloudId, InstallationId, TenantId, UnixTime};

use super::{COLUMNS, ForgeTenantFields, InstallFields};
use crate::{
    connect::{lifecycle::InstallState, signature::Signature},
    error::Result,
    secrets::SealedSecret,
    store::{Database, WriteTx},
};

/// A tenant born on Forge installed again (after a verified `installed`
/// named its site): the new installation, a new generation, not uninstalled.
pub(crate) async fn reinstall_forge(
    tx: &mut WriteTx,
    tenant_id: &TenantId,
    installation_id: &InstallationId,
    now: UnixTime,
    iat: UnixTime,
) -> Result<()> {
    let sql = "UPDATE installations SET installation_id = $2, state = 'installed', uninstalled_at = NULL, \
               given_up_at = NULL, forge_reached_at = $3, install_generation = install_generation + 1, \
               last_installed_at = $3, last_event_at = $3, last_event_iat = $4, last_install_iat = $4, license = NULL, \
               license_said_at = NULL \
               WHERE tenant_id = $1 AND client_key IS NULL";
    on_tx!(tx, conn => sqlx::query(sql).bind(tenant_id).bind(installation_id).bind(now).bind(iat)
        .execute(conn).await?.rows_affected());
    Ok(())
}

/// Points the tenant at its current Forge installation, site and
/// environment (only after a verified Forge event or install said so).
pub(crate) async fn set_forge_identity(
    tx: &mut WriteTx,
    tenant_id: &TenantId,
    installation_id: &InstallationId,
    cloud_id: Option<&CloudId>,
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
    cloud_id: Option<&CloudId>,
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
pub(crate) async fn rename_site(tx: &mut WriteTx, tenant_id: &TenantId, site_url: &BaseUrl) -> Result<bool> {
    let sql = "UPDATE installations SET base_url = $2 WHERE tenant_id = $1 AND base_url <> $2 AND client_key IS NULL";
    let changed =
        on_tx!(tx, conn => sqlx::query(sql).bind(tenant_id).bind(site_url).execute(conn).await?.rows_affected());
    Ok(changed == 1)
}

/// A new Connect tenant.
pub(crate) async fn insert(tx: &mut WriteTx, tenant_id: &TenantId, f: &InstallFields<'_>) -> Result<()> {
    let sql = format!(
        "INSERT INTO installations ({COLUMNS}) VALUES ($15, \
         $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'installed', 1, $12, $13, $13, $13, $14, $14, NULL, NULL, $16, \
         NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
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
         'installed', 1, $10, $5, $5, $5, $6, $6, NULL, NULL, NULL, $7, $8, $9, $5, NULL, NULL, NULL)"
    );
    let (site_url, cloud_id) = (f.site_url.map_or("", |u| u.as_str()), f.cloud_id.map_or("", |c| c.as_str()));
    on_tx!(tx, conn => sqlx::query(&sql).bind(f.tenant_id).bind(site_url).bind(f.product_type)
        .bind(f.installation_id).bind(f.now).bind(f.iat).bind(cloud_id).bind(f.environment_id)
        .bind(f.environment_type).bind(Signature::ForgeInvocation.as_str()).execute(conn).await?.rows_affected());
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
               uninstalled_at = NULL, orphaned_at = NULL, last_install_token = $16, license = NULL, \
               license_said_at = NULL \
               WHERE tenant_id = $17";
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
        .bind(f.client_key.as_str())
        .bind(f.base_url.as_str())
        .bind(f.display_url)
        .bind(f.product_type)
        .bind(f.description)
        .bind(f.app_key)
        .bind(f.oauth_client_id)
        .bind(f.service_entitlement_number)
        .bind(f.installation_id.map(InstallationId::as_str))
        .bind(f.sealed.ciphertext.as_slice())
        .bind(f.sealed.key_id.as_str())
        .bind(f.signature.as_str())
        .bind(f.now)
        .bind(f.iat)
}

pub(crate) async fn set_state(
    tx: &mut WriteTx,
    tenant_id: &TenantId,
    state: InstallState,
    now: UnixTime,
    event_iat: UnixTime,
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
    base_url: &BaseUrl,
    keep: &TenantId,
    now: UnixTime,
) -> Result<Vec<TenantId>> {
    let which = "base_url = $1 AND tenant_id <> $2 AND client_key IS NOT NULL AND orphaned_at IS NULL";
    orphan_where(tx, which, base_url, keep, now).await
}

/// Marks the tenants born on Forge that hold `installation_id`, other than
/// `keep`, as orphans: a signed Connect install put that installation on
/// another tenant. Returns their ids.
pub(crate) async fn orphan_other_holders(
    tx: &mut WriteTx,
    installation_id: &InstallationId,
    keep: &TenantId,
    now: UnixTime,
) -> Result<Vec<TenantId>> {
    let which = "installation_id = $1 AND tenant_id <> $2 AND client_key IS NULL AND orphaned_at IS NULL";
    orphan_where(tx, which, installation_id, keep, now).await
}

async fn orphan_where(
    tx: &mut WriteTx,
    which: &str,
    value: &str,
    keep: &TenantId,
    now: UnixTime,
) -> Result<Vec<TenantId>> {
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

/// What Atlassian last said of the tenant's licence (`connect::license`),
/// in a token issued at `said_at`: kept unless a newer token said otherwise.
pub(crate) async fn record_license(
    tx: &mut WriteTx,
    tenant_id: &TenantId,
    license: &str,
    said_at: UnixTime,
) -> Result<()> {
    let sql = "UPDATE installations SET license = $2, license_said_at = $3 WHERE tenant_id = $1 \
               AND (license_said_at IS NULL OR license_said_at <= $3)";
    on_tx!(tx, conn => sqlx::query(sql).bind(tenant_id).bind(license).bind(said_at).execute(conn).await?
        .rows_affected());
    Ok(())
}
