//! The newest Forge system token per installation, sealed (never stored in
//! clear): what the app needs to call the product as itself between calls.
//! A token replaces the stored one only if it lives longer.

use ids::{InstallationId, TenantId, UnixTime};

use super::Database;
use crate::{error::Result, secrets::SealedSecret};

#[derive(Clone, sqlx::FromRow)]
pub(crate) struct StoredToken {
    pub tenant_id: TenantId,
    pub installation_id: InstallationId,
    pub token_ciphertext: Vec<u8>,
    pub token_key_id: String,
    pub expires_at: UnixTime,
    pub updated_at: UnixTime,
    /// The `app.apiBaseUrl` of the FIT that brought the token.
    pub api_base_url: Option<String>,
    /// The last call to the product as the app: when, and how it went.
    pub api_checked_at: Option<UnixTime>,
    pub api_check: Option<String>,
}

impl StoredToken {
    pub(crate) fn sealed(&self) -> SealedSecret {
        SealedSecret { key_id: self.token_key_id.clone(), ciphertext: self.token_ciphertext.clone() }
    }
}

const INSERTED: &str =
    "tenant_id, installation_id, token_ciphertext, token_key_id, expires_at, updated_at, api_base_url";
const COLUMNS: &str = "tenant_id, installation_id, token_ciphertext, token_key_id, expires_at, updated_at, \
    api_base_url, api_checked_at, api_check";

/// What a verified invocation brought.
pub(crate) struct NewToken<'a> {
    pub tenant_id: &'a TenantId,
    pub installation_id: &'a InstallationId,
    pub api_base_url: &'a str,
    pub sealed: &'a SealedSecret,
    pub expires_at: UnixTime,
}

/// Stores `sealed` for its tenant unless the stored token lives as long or
/// longer. True when it was stored.
pub(crate) async fn keep_newest(db: &Database, new: &NewToken<'_>, now: UnixTime) -> Result<bool> {
    let sql = format!(
        "INSERT INTO forge_system_tokens ({INSERTED}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (tenant_id) DO UPDATE SET installation_id = excluded.installation_id, \
         token_ciphertext = excluded.token_ciphertext, token_key_id = excluded.token_key_id, \
         expires_at = excluded.expires_at, updated_at = excluded.updated_at, api_base_url = excluded.api_base_url \
         WHERE excluded.expires_at > forge_system_tokens.expires_at \
         OR excluded.installation_id <> forge_system_tokens.installation_id"
    );
    let stored = on_pool!(db, pool => {
        let query = sqlx::query(&sql).bind(new.tenant_id).bind(new.installation_id);
        let query = query.bind(new.sealed.ciphertext.as_slice()).bind(new.sealed.key_id.as_str());
        query.bind(new.expires_at).bind(now).bind(new.api_base_url).execute(pool).await?.rows_affected()
    });
    Ok(stored == 1)
}

/// Records how the last call to the product as the app went.
pub(crate) async fn record_api_check(db: &Database, tenant_id: &TenantId, now: UnixTime, outcome: &str) -> Result<()> {
    let sql = "UPDATE forge_system_tokens SET api_checked_at = $2, api_check = $3 WHERE tenant_id = $1";
    on_pool!(db, pool => {
        sqlx::query(sql).bind(tenant_id).bind(now).bind(outcome).execute(pool).await?.rows_affected()
    });
    Ok(())
}

/// Forgets a tenant's token (its Forge installation is ending), inside the
/// transaction that marks it uninstalled.
pub(crate) async fn delete_in(tx: &mut super::WriteTx, tenant_id: &TenantId) -> Result<()> {
    let sql = "DELETE FROM forge_system_tokens WHERE tenant_id = $1";
    on_tx!(tx, conn => sqlx::query(sql).bind(tenant_id).execute(conn).await?.rows_affected());
    Ok(())
}

pub(crate) async fn find(db: &Database, tenant_id: &TenantId) -> Result<Option<StoredToken>> {
    let sql = format!("SELECT {COLUMNS} FROM forge_system_tokens WHERE tenant_id = $1");
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(tenant_id).fetch_optional(pool).await?))
}

pub(crate) async fn list(db: &Database) -> Result<Vec<StoredToken>> {
    let sql = format!("SELECT {COLUMNS} FROM forge_system_tokens ORDER BY tenant_id");
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await?))
}

/// Replaces a sealed token with `new` only if it is still `expected` (a key
/// rotation never overwrites a token that arrived meanwhile).
pub(crate) async fn replace_sealed(
    db: &Database,
    tenant_id: &TenantId,
    expected: &[u8],
    new: &SealedSecret,
) -> Result<bool> {
    let sql = "UPDATE forge_system_tokens SET token_ciphertext = $3, token_key_id = $4 \
               WHERE tenant_id = $1 AND token_ciphertext = $2";
    let done = on_pool!(db, pool => {
        let query = sqlx::query(sql).bind(tenant_id).bind(expected).bind(new.ciphertext.as_slice());
        query.bind(new.key_id.as_str()).execute(pool).await?.rows_affected()
    });
    Ok(done == 1)
}
