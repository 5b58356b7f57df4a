//! What every request handler shares: configuration, the database, the
//! rendered descriptor, keys and outbound clients. One `Arc`, so the many
//! clones a request makes (every layer takes the state) cost one count each. It sits
//! below the layers that use it (`http`, `api`, `console`) and imports none
//! of them.

use std::{ops::Deref, sync::Arc};

use app::api::types::SessionGrant;
use axum::extract::FromRef;
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
    network_shares::NetworkShares,
    outbound::{
        act_as_user::ActAsUser, admin_check::AdminCheck, forge_api::ForgeApi, forge_keys::ForgeKeys,
        host_client::HostClient, install_keys::InstallKeys, system_tokens::SystemTokens,
    },
    secrets::{Keyring, SessionKeys, random_hex},
    store::{Database, Installation},
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
    /// Wakes this instance's webhook workers when it queues a delivery.
    pub(crate) webhook_wakeup: Arc<Notify>,
    /// Refused requests counted per client network.
    pub(crate) refusals: Arc<NetworkShares>,
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
    /// Does the host say `account_id` administers the site of `installation`?
    /// Asked through a short-lived cache; a host that cannot be asked is a 503.
    pub(crate) async fn is_site_admin(&self, installation: &Installation, account_id: Option<&str>) -> Result<bool> {
        let secret = self.keyring.open(&installation.client_key, &installation.sealed_secret())?;
        let now = self.clock.now();
        let answer = self.admin_check.is_admin(&self.host_client, installation, &secret, account_id, now).await;
        answer.map_err(|e| {
            tracing::warn!(client_key = %installation.client_key, error = %e, "admin check failed");
            Error::Unavailable("admin check".into())
        })
    }

    /// A fresh session token for a verified caller of `installation`: after
    /// its page JWT verified, or in exchange for a context JWT.
    pub(crate) fn mint_session(&self, installation: &Installation, account_id: Option<&str>) -> Result<SessionGrant> {
        let issue = Issue {
            app_key: self.descriptor.key(),
            tenant: &installation.client_key,
            account_id,
            generation: installation.install_generation,
            // 128 random bits (threat S-10).
            jti: random_hex(16)?,
            now: self.clock.now(),
            ttl_secs: self.config.session_ttl.as_secs() as i64,
        };
        let (token, claims) = mint(&self.session_keys.signing(), &issue)
            .map_err(|e| Error::Internal(format!("session token: {}", e.reason())))?;
        Ok(SessionGrant { token, expires_at: claims.exp, expires_in: claims.exp - claims.iat })
    }
}
