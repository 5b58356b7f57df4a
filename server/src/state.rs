//! What every request handler shares: configuration, the database and the
//! rendered descriptor. Cheap to clone.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::{
    api::AdminCache,
    console::LoginThrottle,
    clock::Clock,
    config::Config,
    connect::descriptor::Descriptor,
    outbound::{host_client::HostClient, install_keys::InstallKeys},
    secrets::{Keyring, SessionKeys},
    store::Database,
};

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Database,
    pub descriptor: Arc<Descriptor>,
    pub keyring: Arc<Keyring>,
    pub install_keys: Arc<InstallKeys>,
    pub clock: Arc<Clock>,
    pub session_keys: Arc<SessionKeys>,
    pub host_client: Arc<HostClient>,
    pub admin_cache: Arc<AdminCache>,
    pub login_throttle: Arc<LoginThrottle>,
    pub leptos: LeptosOptions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}
