//! What every request handler shares: configuration, the database, the
//! rendered descriptor, keys and outbound clients. One `Arc`, so the many
//! clones a request makes (every layer takes the state) cost one count each. It sits
//! below the layers that use it (`http`, `api`, `console`) and imports none
//! of them.

use std::{ops::Deref, sync::Arc};

use app::api::types::SessionGrant;
use axum::extract::FromRef;
use ids::AccountId;
use leptos::config::LeptosOptions;
use tokio::sync::Notify;

use crate::{
    clock::Clock,
    config::Config,
    connect::{
        descriptor::Descriptor,
        session_token::{Issue, mint},
    },
    error::{Error, Result},
    lifecycle_hooks::LifecycleHooks,
    network_shares::{NetworkShares, SignerShares},
    outbound::{
        act_as_user::ActAsUser,
        admin_check::AdminCheck,
        forge_api::{ForgeApi, ForgeApiError},
        forge_keys::ForgeKeys,
        host_api,
        host_client::HostClient,
        install_keys::InstallKeys,
        site_client::SiteClient,
        system_tokens::SystemTokens,
    },
    proven_networks::ProvenNetworks,
    secrets::{Keyring, SessionKeys, SharedSecret, request_hex},
    store::{Database, Tenant},
    webhooks::Webhooks,
};

#[derive(Clone)]
pub struct AppState(Arc<Shared>);

#[derive(Clone)]
pub struct Shared {
    pub config: Arc<Config>,
    pub db: Database,
    pub descriptor: Arc<Descriptor>,
    pub keyring: Arc<Keyring>,
    pub install_keys: Arc<InstallKeys>,
    pub forge_keys: Arc<ForgeKeys>,
    pub(crate) system_tokens: Arc<SystemTokens>,
    pub(crate) forge_api: Arc<ForgeApi>,
    pub clock: Arc<Clock>,
    pub session_keys: Arc<SessionKeys>,
    pub host_client: Arc<HostClient>,
    pub admin_check: Arc<AdminCheck>,
    pub(crate) act_as_user: Arc<ActAsUser>,
    /// The handlers of product events, the demo's and the vendor's.
    pub webhooks: Arc<Webhooks>,
    /// The vendor's lifecycle hooks, fired after each accepted change.
    pub hooks: Arc<LifecycleHooks>,
    /// The tenant data that names accounts, the house's and the vendor's.
    pub(crate) personal_data: Arc<Vec<crate::store::personal_data::PersonalData>>,
    /// Wakes this instance's webhook workers when it queues a delivery.
    pub(crate) webhook_wakeup: Arc<Notify>,
    /// Refused requests counted per client network.
    pub(crate) refusals: Arc<NetworkShares>,
    /// Genuine FITs sent where their module is not accepted, per installation and user.
    pub(crate) signer_refusals: Arc<SignerShares>,
    /// Networks that recently proved a signature, for the connections kept for Atlassian.
    pub(crate) proven: Arc<ProvenNetworks>,
    pub leptos: LeptosOptions,
}

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

impl AppState {
    /// Does the site say `account_id` administers it? A Connect tenant asks
    /// its host with its shared secret; a tenant born on Forge asks the
    /// product API as the app, with the system token Forge sent it. Asked
    /// through a short-lived cache; a site that cannot be asked is a 503.
    pub(crate) async fn is_site_admin(&self, installation: &Tenant, account_id: Option<&AccountId>) -> Result<bool> {
        let Some(account_id) = account_id else { return Ok(false) };
        if let Some(admin) = self.admin_check.cached(&installation.tenant_id, account_id) {
            return Ok(admin);
        }
        let admin = match &installation.connect {
            Some(connect) => {
                let secret = connect.open_secret(&self.keyring)?;
                let now = self.clock.now();
                let asked = host_api::is_site_admin(&self.host_client, installation, &secret, account_id, now).await;
                asked.map_err(|e| admin_check_failed(installation, &e))?
            }
            None => {
                let now = self.clock.now();
                let asked = self.forge_api.is_site_admin(&self.db, &self.keyring, installation, account_id, now).await;
                asked.map_err(|e| match e {
                    ForgeApiError::NoToken | ForgeApiError::NotAllowed | ForgeApiError::NoImpersonation(_) => {
                        Error::SiteRefused(e.to_string())
                    }
                    other => admin_check_failed(installation, &other),
                })?
            }
        };
        self.admin_check.remember(&installation.tenant_id, account_id, admin);
        Ok(admin)
    }

    /// The client for a tenant's site, in whichever world it lives.
    pub(crate) fn site(&self) -> SiteClient<'_> {
        SiteClient::new(&self.db, &self.keyring, &self.clock, &self.host_client, &self.forge_api, &self.act_as_user)
    }

    /// The tenant's Connect shared secret; a tenant born on Forge has none.
    pub(crate) fn open_secret(&self, installation: &Tenant) -> Result<SharedSecret> {
        let connect = installation.connect.as_ref().ok_or_else(|| {
            Error::Internal(format!("tenant {} has no Connect shared secret", installation.tenant_id))
        })?;
        connect.open_secret(&self.keyring)
    }

    /// A fresh session token for a verified caller of `installation`: after
    /// its page JWT verified, or in exchange for a context JWT.
    pub(crate) fn mint_session(&self, installation: &Tenant, account_id: Option<&AccountId>) -> Result<SessionGrant> {
        let issue = Issue {
            app_key: self.descriptor.key(),
            tenant: installation.tenant_id.as_str(),
            account_id,
            generation: installation.install_generation,
            // 128 random bits (threat S-10).
            jti: request_hex(16),
            now: self.clock.now(),
            ttl_secs: self.config.keys.session_ttl.as_secs() as i64,
        };
        let (token, claims) = mint(&self.session_keys.signing(), &issue)
            .map_err(|e| Error::Internal(format!("session token: {}", e.reason())))?;
        Ok(SessionGrant { token, expires_at: claims.exp, expires_in: claims.exp - claims.iat })
    }
}

fn admin_check_failed(installation: &Tenant, error: &dyn std::fmt::Display) -> Error {
    tracing::warn!(tenant_id = %installation.tenant_id, error = %error, "admin check failed");
    Error::Unavailable("admin check".into())
}
