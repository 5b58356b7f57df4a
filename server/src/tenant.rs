//! A tenant: one site that installed the app, in whichever world it lives.
//! Its site is always there (product, base URL, cloudId once learned); its
//! Connect part (clientKey, sealed shared secret) only when Connect
//! installed it; its Forge part (installationId, environment) only when a
//! Forge installation is joined to it. Code that needs one world matches on
//! its part instead of guessing from which columns happen to be filled; the
//! store maps its row into this once (`store::installations::row`).

use app::api::backend::License;
use ids::{BaseUrl, ClientKey, CloudId, InstallationId, TenantId, UnixTime};

use crate::{
    connect::{
        forge_silence::{self, Reach, SilenceLimits},
        lifecycle::InstallState,
        signature::Signature,
    },
    error::Result,
    secrets::{Keyring, SealedSecret, SharedSecret},
};

#[derive(Clone)]
pub struct Tenant {
    pub tenant_id: TenantId,
    pub site: Site,
    /// Present when Connect installed the app on this site.
    pub connect: Option<ConnectPart>,
    /// Present when a Forge installation is joined to the tenant (born on
    /// Forge, or a Connect app that moved).
    pub forge: Option<ForgePart>,
    pub state: InstallState,
    pub install_generation: i64,
    /// How the last accepted install was signed.
    pub install_signature: Signature,
    pub first_installed_at: UnixTime,
    pub last_installed_at: UnixTime,
    pub last_event_at: UnixTime,
    pub last_event_iat: UnixTime,
    pub last_install_iat: UnixTime,
    pub uninstalled_at: Option<UnixTime>,
    pub orphaned_at: Option<UnixTime>,
    /// When a verified FIT last reached a tenant born on Forge (kept to 15 minutes).
    pub forge_reached_at: Option<UnixTime>,
    /// When the app treated it as uninstalled, Forge having been silent too long.
    pub given_up_at: Option<UnixTime>,
    /// The licence Atlassian last said the site has (a page's `lic`, a
    /// FIT's `app.license`); `None` before anything said (`connect::license`).
    pub license: Option<License>,
    /// When the token that said it was issued.
    pub license_said_at: Option<UnixTime>,
}

/// The site the tenant is.
#[derive(Clone, Debug)]
pub struct Site {
    /// Jira or Confluence; None when the install named neither.
    pub product: Option<Product>,
    /// The site's URL (Connect's `baseUrl`, Forge's `siteUrl`); empty for a
    /// tenant born on Forge whose first calls named none yet.
    pub base_url: BaseUrl,
    pub display_url: Option<String>,
    pub description: Option<String>,
    /// The site's stable Forge id, learned from verified Forge calls (empty
    /// for a tenant born on Forge whose FIT named none).
    pub cloud_id: Option<CloudId>,
}

/// The product a site runs the app in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Product {
    Jira,
    Confluence,
}

impl Product {
    /// Connect's `productType` or Forge's product as stored; case does not
    /// matter, and any other name is no product the app knows.
    pub fn parse(name: &str) -> Option<Self> {
        if name.eq_ignore_ascii_case("jira") {
            Some(Self::Jira)
        } else if name.eq_ignore_ascii_case("confluence") {
            Some(Self::Confluence)
        } else {
            None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jira => "jira",
            Self::Confluence => "confluence",
        }
    }
}

/// What Connect's install gave the tenant.
#[derive(Clone)]
pub struct ConnectPart {
    pub client_key: ClientKey,
    /// The shared secret, sealed under the app's encryption key; opened only to sign or verify.
    pub secret: SealedSecret,
    pub app_key: Option<String>,
    pub oauth_client_id: Option<String>,
    pub service_entitlement_number: Option<String>,
    /// Fingerprint of the token that signed the last install.
    pub last_install_token: Option<String>,
}

impl ConnectPart {
    /// The shared secret, opened under the app's keys; it is sealed bound to the clientKey.
    pub(crate) fn open_secret(&self, keyring: &Keyring) -> Result<SharedSecret> {
        keyring.open(&self.client_key, &self.secret)
    }
}

/// The Forge installation joined to the tenant.
#[derive(Clone, Debug)]
pub struct ForgePart {
    pub installation_id: InstallationId,
    /// The Forge environment (`app.environment`) the installation runs in,
    /// once a FIT named it (empty for a tenant born of one that named none).
    pub environment_id: Option<String>,
    pub environment_type: Option<String>,
}

impl Tenant {
    /// Installed or enabled, and not superseded by a site import.
    pub fn is_active(&self) -> bool {
        matches!(self.state, InstallState::Installed | InstallState::Enabled) && self.orphaned_at.is_none()
    }

    /// Connect only, Connect-on-Forge, or Forge (born on Forge, no Connect part).
    pub fn world(&self) -> &'static str {
        match (&self.connect, &self.forge) {
            (None, _) => "Forge",
            (Some(_), Some(_)) => "Connect-on-Forge",
            (Some(_), None) => "Connect only",
        }
    }

    pub fn client_key(&self) -> Option<&ClientKey> {
        self.connect.as_ref().map(|c| &c.client_key)
    }

    pub fn installation_id(&self) -> Option<&InstallationId> {
        self.forge.as_ref().map(|f| &f.installation_id)
    }

    /// The Forge environment's id, when a Forge part has one.
    pub fn environment_id(&self) -> Option<&str> {
        self.forge.as_ref().and_then(|f| f.environment_id.as_deref())
    }

    pub fn is_confluence(&self) -> bool {
        self.site.product == Some(Product::Confluence)
    }

    /// The clientKey, or the tenant id where there is none: how logs and pages name the tenant.
    pub fn name(&self) -> &str {
        self.client_key().map_or(self.tenant_id.as_str(), |k| k.as_str())
    }

    /// How Forge's silence stands for an active tenant born on Forge; None
    /// for any other (Connect sends its own uninstall, and an inactive
    /// tenant is not waiting to hear from Forge) and for a tenant with no
    /// reach recorded.
    pub fn forge_reach(&self, now: UnixTime, limits: &SilenceLimits) -> Option<Reach> {
        let reached = self.forge_reached_at.filter(|_| self.connect.is_none() && self.is_active())?;
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
}

impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant")
            .field("tenant_id", &self.tenant_id)
            .field("client_key", &self.client_key())
            .field("installation_id", &self.installation_id())
            .field("base_url", &self.site.base_url)
            .field("state", &self.state)
            .field("install_generation", &self.install_generation)
            .field("orphaned_at", &self.orphaned_at)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
impl Tenant {
    /// An active Connect tenant of `client_key` on a Jira site, for unit tests.
    pub(crate) fn fixture(client_key: &str, generation: i64) -> Self {
        let secret = SealedSecret { key_id: "k1".into(), ciphertext: vec![1, 2, 3] };
        Self {
            tenant_id: TenantId::from_trusted(client_key),
            site: Site {
                product: Some(Product::Jira),
                base_url: BaseUrl::new("https://acme.atlassian.net"),
                display_url: None,
                description: None,
                cloud_id: None,
            },
            connect: Some(ConnectPart {
                client_key: ClientKey::new(client_key),
                secret,
                app_key: Some("app".into()),
                oauth_client_id: None,
                service_entitlement_number: None,
                last_install_token: None,
            }),
            forge: None,
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
            forge_reached_at: None,
            given_up_at: None,
            license: None,
            license_said_at: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_world_is_read_from_the_parts() {
        let connect = Tenant::fixture("acme", 1);
        assert_eq!(connect.world(), "Connect only");
        assert_eq!(connect.name(), "acme");
        let forge = Some(ForgePart {
            installation_id: InstallationId::new("i-1"),
            environment_id: None,
            environment_type: None,
        });
        let moved = Tenant { forge: forge.clone(), ..connect.clone() };
        assert_eq!(moved.world(), "Connect-on-Forge");
        let born = Tenant { connect: None, forge, tenant_id: TenantId::from_trusted("t-1"), ..connect };
        assert_eq!(born.world(), "Forge");
        assert_eq!(born.name(), "t-1", "no clientKey: named by its tenant id");
    }

    #[test]
    fn products_are_read_without_regard_to_case_and_unknown_ones_are_none() {
        assert_eq!(Product::parse("jira"), Some(Product::Jira));
        assert_eq!(Product::parse("Confluence"), Some(Product::Confluence));
        assert_eq!(Product::parse("bitbucket"), None);
        assert_eq!(Product::parse(Product::Confluence.as_str()), Some(Product::Confluence));
    }
}
