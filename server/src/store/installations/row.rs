//! The `installations` row as the database holds it (one flat record) and
//! its one mapping into a [`Tenant`]: the clientKey and sealed secret make
//! the Connect part, the installationId and environment the Forge part.
//! Every read of the table decodes through here.

use ids::{BaseUrl, ClientKey, CloudId, InstallationId, TenantId, UnixTime};
use sqlx::FromRow;

use crate::{
    connect::{license, lifecycle::InstallState, signature::Signature},
    secrets::SealedSecret,
    tenant::{ConnectPart, ForgePart, Product, Site, Tenant},
};

#[derive(sqlx::FromRow)]
struct Row {
    tenant_id: TenantId,
    client_key: Option<ClientKey>,
    base_url: BaseUrl,
    display_url: Option<String>,
    product_type: Option<String>,
    description: Option<String>,
    app_key: Option<String>,
    oauth_client_id: Option<String>,
    service_entitlement_number: Option<String>,
    installation_id: Option<InstallationId>,
    secret_ciphertext: Option<Vec<u8>>,
    secret_key_id: Option<String>,
    #[sqlx(try_from = "String")]
    state: InstallState,
    install_generation: i64,
    #[sqlx(try_from = "String")]
    install_signature: Signature,
    first_installed_at: UnixTime,
    last_installed_at: UnixTime,
    last_event_at: UnixTime,
    last_event_iat: UnixTime,
    last_install_iat: UnixTime,
    uninstalled_at: Option<UnixTime>,
    orphaned_at: Option<UnixTime>,
    last_install_token: Option<String>,
    cloud_id: Option<CloudId>,
    environment_id: Option<String>,
    environment_type: Option<String>,
    forge_reached_at: Option<UnixTime>,
    given_up_at: Option<UnixTime>,
    license: Option<String>,
    license_said_at: Option<UnixTime>,
}

/// Why a row is not a tenant: a clientKey stored without its sealed secret
/// (the app never writes one).
#[derive(Debug, thiserror::Error)]
#[error("installation {0} has a clientKey but no sealed secret")]
struct NoSecret(TenantId);

impl Row {
    fn into_tenant(self) -> Result<Tenant, NoSecret> {
        let r = self;
        let connect = match (r.client_key, r.secret_ciphertext, r.secret_key_id) {
            (None, _, _) => None,
            (Some(client_key), Some(ciphertext), Some(key_id)) => Some(ConnectPart {
                client_key,
                secret: SealedSecret { key_id, ciphertext },
                app_key: r.app_key,
                oauth_client_id: r.oauth_client_id,
                service_entitlement_number: r.service_entitlement_number,
                last_install_token: r.last_install_token,
            }),
            (Some(_), _, _) => return Err(NoSecret(r.tenant_id)),
        };
        let forge = r.installation_id.map(|installation_id| ForgePart {
            installation_id,
            environment_id: r.environment_id,
            environment_type: r.environment_type,
        });
        let site = Site {
            product: r.product_type.as_deref().and_then(Product::parse),
            base_url: r.base_url,
            display_url: r.display_url,
            description: r.description,
            cloud_id: r.cloud_id,
        };
        Ok(Tenant {
            tenant_id: r.tenant_id,
            site,
            connect,
            forge,
            state: r.state,
            install_generation: r.install_generation,
            install_signature: r.install_signature,
            first_installed_at: r.first_installed_at,
            last_installed_at: r.last_installed_at,
            last_event_at: r.last_event_at,
            last_event_iat: r.last_event_iat,
            last_install_iat: r.last_install_iat,
            uninstalled_at: r.uninstalled_at,
            orphaned_at: r.orphaned_at,
            forge_reached_at: r.forge_reached_at,
            given_up_at: r.given_up_at,
            license: r.license.as_deref().and_then(license::from_stored),
            license_said_at: r.license_said_at,
        })
    }
}

/// Decodes the flat row, then maps it (both databases).
fn tenant_from<'r, R: sqlx::Row>(row: &'r R) -> sqlx::Result<Tenant>
where
    Row: FromRow<'r, R>,
{
    let flat = Row::from_row(row)?;
    flat.into_tenant().map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

impl<'r> FromRow<'r, sqlx::sqlite::SqliteRow> for Tenant {
    fn from_row(row: &'r sqlx::sqlite::SqliteRow) -> sqlx::Result<Self> {
        tenant_from(row)
    }
}

impl<'r> FromRow<'r, sqlx::postgres::PgRow> for Tenant {
    fn from_row(row: &'r sqlx::postgres::PgRow) -> sqlx::Result<Self> {
        tenant_from(row)
    }
}
