//! The `installations` table: one row per tenant, keyed by the tenant's own
//! id. A Connect tenant also has its clientKey (unique) and sealed shared
//! secret; a tenant born on Forge has neither, and is found by its
//! installationId or by its site (cloudId) and Forge environment. The row
//! and what a write stores are here; `reads.rs` finds rows, `writes.rs`
//! changes them (the lifecycle service calls those inside its transaction).

mod forge_reach;
mod reads;
mod writes;

pub(crate) use forge_reach::*;
pub use reads::*;
pub(crate) use writes::*;

use ids::{BaseUrl, ClientKey, CloudId, InstallationId, TenantId, UnixTime};

use crate::{
    connect::{
        forge_silence::{self, Reach, SilenceLimits},
        lifecycle::InstallState,
        signature::Signature,
    },
    secrets::SealedSecret,
};

pub(super) const COLUMNS: &str = "tenant_id, client_key, base_url, display_url, product_type, description, app_key, \
    oauth_client_id, service_entitlement_number, installation_id, secret_ciphertext, secret_key_id, state, \
    install_generation, install_signature, first_installed_at, last_installed_at, last_event_at, last_event_iat, \
    last_install_iat, uninstalled_at, orphaned_at, last_install_token, cloud_id, environment_id, environment_type, \
    forge_reached_at, given_up_at";

/// Active: installed or enabled, and not superseded.
pub(super) const ACTIVE: &str = "orphaned_at IS NULL AND state IN ('installed', 'enabled')";
pub(super) const NEWEST_FIRST: &str = "ORDER BY last_installed_at DESC, tenant_id";

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
    /// How the last accepted install was signed.
    #[sqlx(try_from = "String")]
    pub install_signature: Signature,
    pub first_installed_at: UnixTime,
    pub last_installed_at: UnixTime,
    pub last_event_at: UnixTime,
    pub last_event_iat: UnixTime,
    pub last_install_iat: UnixTime,
    pub uninstalled_at: Option<UnixTime>,
    pub orphaned_at: Option<UnixTime>,
    pub last_install_token: Option<String>,
    /// The site's stable Forge id, learned from verified Forge calls.
    pub cloud_id: Option<CloudId>,
    /// The Forge environment (`app.environment`) the installation runs in.
    pub environment_id: Option<String>,
    pub environment_type: Option<String>,
    /// When a verified FIT last reached a tenant born on Forge (kept to 15 minutes).
    pub forge_reached_at: Option<UnixTime>,
    /// When the app treated it as uninstalled, Forge having been silent too long.
    pub given_up_at: Option<UnixTime>,
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
            install_signature: Signature::AtlassianRs256,
            first_installed_at: UnixTime::EPOCH,
            last_installed_at: UnixTime::EPOCH,
            last_event_at: UnixTime::EPOCH,
            last_event_iat: UnixTime::EPOCH,
            last_install_iat: UnixTime::EPOCH,
            uninstalled_at: None,
            orphaned_at: None,
            last_install_token: None,
            cloud_id: None,
            environment_id: None,
            environment_type: None,
            forge_reached_at: None,
            given_up_at: None,
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

    /// How Forge's silence stands for an active tenant born on Forge; None
    /// for any other (Connect sends its own uninstall, and an inactive
    /// tenant is not waiting to hear from Forge) and for a row with no
    /// reach recorded.
    pub fn forge_reach(&self, now: UnixTime, limits: &SilenceLimits) -> Option<Reach> {
        let reached = self.forge_reached_at.filter(|_| self.client_key.is_none() && self.is_active())?;
        Some(forge_silence::judge(reached, now, limits))
    }

    /// The state as the console and `server list` show it: orphaned, silent
    /// (Forge has not reached it for `limits.silent_after`), or given up on.
    pub fn state_label(&self, now: UnixTime, limits: &SilenceLimits) -> String {
        if self.orphaned_at.is_some() {
            return format!("{} (orphaned)", self.state);
        }
        if self.given_up_at.is_some() {
            return format!("{} (Forge silent)", self.state);
        }
        match self.forge_reach(now, limits) {
            Some(Reach::Silent { .. } | Reach::Gone { .. }) => format!("{} (silent)", self.state),
            Some(Reach::Heard) | None => self.state.to_string(),
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
