//! The install status the admin page shows, for site administrators only
//! (asked of the host, not taken from the page).

use app::api::{
    backend::{ApiFuture, Caller},
    error::ApiError,
    types::{IdentityEntry, InstallStatus, LifecycleEntry, OrphanEntry},
};

use super::{unavailable, verified_installation};
use crate::{
    connect::forge_modules::ForgeModule,
    error::Error,
    state::AppState,
    store::{event_log, forge_tokens, identities, installations},
};

async fn install_status(state: &AppState, caller: &Caller) -> Result<InstallStatus, ApiError> {
    // Under Forge only the admin page's FIT asks for it; the user must still be an admin.
    if caller.forge_module.is_some_and(|module| module != ForgeModule::AdminPage.key()) {
        return Err(ApiError::Forbidden);
    }
    let installation = verified_installation(caller)?;
    // Logged by the check itself; the browser learns to retry, or why the site cannot be asked.
    let is_admin = state.is_site_admin(&installation, caller.account_id.as_ref()).await;
    let is_admin = is_admin.map_err(|e| match e {
        Error::SiteRefused(why) => ApiError::SiteRefused(why),
        _ => ApiError::Unavailable,
    })?;
    if !is_admin {
        return Err(ApiError::Forbidden);
    }
    let key = &installation.tenant_id;
    let events = event_log::for_admin_page(&state.db, key, 50, 10).await.map_err(unavailable)?;
    let retention = state.config.retention.keep.as_secs() as i64;
    // A tenant whose site URL is not known yet (a Forge FIT that named none) has no site's history to show.
    let same_site = match installation.site.base_url.as_str() {
        "" => Vec::new(),
        _ => installations::all_for_base_url(&state.db, &installation.site.base_url).await.map_err(unavailable)?,
    };
    let orphans = same_site
        .into_iter()
        .filter(|other| other.tenant_id != installation.tenant_id)
        .filter_map(|other| {
            other.orphaned_at.map(|at| OrphanEntry {
                client_key: masked(other.name()),
                orphaned_at: at,
                purge_at: at + retention,
            })
        })
        .collect();
    let token = forge_tokens::find(&state.db, key).await.map_err(unavailable)?;
    let history = identities::history(&state.db, key).await.map_err(unavailable)?;
    Ok(InstallStatus {
        state: installation.state.to_string(),
        product_type: super::identity::product_name(&installation),
        base_url: installation.site.base_url.clone(),
        first_installed_at: installation.first_installed_at,
        last_installed_at: installation.last_installed_at,
        last_event_at: installation.last_event_at,
        install_generation: installation.install_generation,
        install_signature: installation.install_signature.to_string(),
        events: events
            .into_iter()
            .map(|e| LifecycleEntry {
                event: e.event,
                occurred_at: e.occurred_at,
                signature: e.signature.as_str().to_string(),
                outcome: e.outcome.as_str().to_string(),
                detail: e.detail,
            })
            .collect(),
        orphans,
        world: installation.world().to_string(),
        installation_id: installation.installation_id().cloned(),
        cloud_id: installation.site.cloud_id.clone(),
        system_token_until: token.map(|t| t.expires_at),
        history: history
            .into_iter()
            .map(|h| IdentityEntry {
                kind: h.kind.as_str().into(),
                value: h.value,
                first_seen: h.first_seen,
                last_seen: h.last_seen,
            })
            .collect(),
        app_version: env!("CARGO_PKG_VERSION").to_string(),
        database: state.db.kind().to_string(),
        database_ok: state.db.ping().await.is_ok(),
    })
}

/// Enough of a clientKey to tell installations apart; the rest stays with the
/// operator (after a site import it may name another organisation's site).
fn masked(client_key: &str) -> String {
    let shown: String = client_key.chars().take(8).collect();
    format!("{shown}…")
}

/// `app::api::admin`'s function.
impl app::api::admin::AdminBackend for super::AppBackend {
    fn install_status<'a>(&'a self, caller: &'a Caller) -> ApiFuture<'a, InstallStatus> {
        Box::pin(install_status(&self.state, caller))
    }
}
