//! Finding a tenant by any name it has had: tenant id, clientKey,
//! installationId, cloudId or base URL (the operator's `server show`).

use ids::{BaseUrl, ClientKey, CloudId, InstallationId, TenantId};

use super::{
    Database, Tenant,
    identities::{Name, tenants_with},
    installations,
};
use crate::{connect::forge_token::is_installation_id, error::Result};

/// The tenant `key` names: a tenant id, a clientKey, an installationId, a
/// cloudId or a base URL. The current holder of an id wins (seed 000: the newest active
/// installation of a base URL); else the tenant that had it most recently.
pub async fn find_tenant(db: &Database, key: &str) -> Result<Option<Tenant>> {
    let key = key.trim_end_matches('/');
    let (base_url, installation_id, cloud_id) = (BaseUrl::new(key), InstallationId::new(key), CloudId::new(key));
    let (current, name) = if key.starts_with("https://") || key.starts_with("http://") {
        (installations::newest_active_by_base_url(db, &base_url).await?, Name::BaseUrl(&base_url))
    } else if is_installation_id(key) {
        (installations::find_by_installation_id(db, &installation_id).await?, Name::InstallationId(&installation_id))
    } else if let Some(found) = installations::find(db, &TenantId::from_trusted(key)).await? {
        (Some(found), Name::CloudId(&cloud_id))
    } else if let Some(found) = installations::find_by_client_key(db, &ClientKey::new(key)).await? {
        (Some(found), Name::CloudId(&cloud_id))
    } else {
        (installations::find_active_by_cloud_id(db, &cloud_id).await?, Name::CloudId(&cloud_id))
    };
    if current.is_some() {
        return Ok(current);
    }
    match tenants_with(db, name).await?.first() {
        Some(tenant_id) => installations::find(db, tenant_id).await,
        None => Ok(None),
    }
}
