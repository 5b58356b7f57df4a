//! The `installations` table: one row per tenant, keyed by the tenant's own
//! id. A Connect tenant also has its clientKey (unique) and sealed shared
//! secret; a tenant born on Forge has neither, and is found by its
//! installationId or by its site (cloudId) and Forge environment. The row
//! and what a write stores are here; `reads.rs` finds rows, `writes.rs`
//! changes them (the lifecycle service calls those inside its transaction).

mod forge_reach;
mod reads;
mod row;
mod writes;

pub(crate) use forge_reach::*;
pub use reads::*;
pub(crate) use writes::*;

pub use crate::tenant::Tenant;

use ids::{BaseUrl, ClientKey, CloudId, InstallationId, TenantId, UnixTime};

use crate::{connect::signature::Signature, secrets::SealedSecret};

pub(super) const COLUMNS: &str = "tenant_id, client_key, base_url, display_url, product_type, description, app_key, \
    oauth_client_id, service_entitlement_number, installation_id, secret_ciphertext, secret_key_id, state, \
    install_generation, install_signature, first_installed_at, last_installed_at, last_event_at, last_event_iat, \
    last_install_iat, uninstalled_at, orphaned_at, last_install_token, cloud_id, environment_id, environment_type, \
    forge_reached_at, given_up_at, license, license_said_at";

/// Active: installed or enabled, and not superseded.
pub(super) const ACTIVE: &str = "orphaned_at IS NULL AND state IN ('installed', 'enabled')";
pub(super) const NEWEST_FIRST: &str = "ORDER BY last_installed_at DESC, tenant_id";

/// The fields an accepted Connect `installed` writes.
pub(crate) struct InstallFields<'a> {
    pub client_key: &'a ClientKey,
    pub base_url: &'a BaseUrl,
    pub display_url: Option<&'a str>,
    pub product_type: Option<&'a str>,
    pub description: Option<&'a str>,
    pub app_key: &'a str,
    pub oauth_client_id: Option<&'a str>,
    pub service_entitlement_number: Option<&'a str>,
    pub installation_id: Option<&'a InstallationId>,
    pub sealed: &'a SealedSecret,
    pub signature: Signature,
    pub now: UnixTime,
    pub iat: UnixTime,
    /// Fingerprint of the token that signed this install, if one did.
    pub token_fingerprint: Option<&'a str>,
}

/// What a verified Forge `installed` writes for a tenant born on Forge.
pub(crate) struct ForgeTenantFields<'a> {
    pub tenant_id: &'a TenantId,
    pub installation_id: &'a InstallationId,
    /// The site's cloudId and URL as the FIT named them, stored empty when it
    /// named none (or a site outside the allowlist): a later verified call
    /// fills in the URL, a Forge reinstall that joins the tenant the cloudId.
    pub cloud_id: Option<&'a CloudId>,
    pub site_url: Option<&'a BaseUrl>,
    pub product_type: Option<&'a str>,
    pub environment_id: &'a str,
    pub environment_type: &'a str,
    pub now: UnixTime,
    pub iat: UnixTime,
}
