//! The vendor's lifecycle hooks: "when a tenant is installed, uninstalled,
//! moved onto Forge or purged, do X". A hook runs after the change has
//! committed, once per change the app accepted (a retried callback that
//! changes nothing calls nothing), in a task of its own, so the answer to
//! Atlassian never waits for it. It is not retried: make it idempotent and
//! able to catch up (for instance on the tenant's next call). Not told: a
//! tenant superseded by a site import (orphaned; `Purged` comes 30 days
//! later) and what `server purge` deletes from the command line.

use std::{future::Future, pin::Pin, sync::Arc};

use ids::{BaseUrl, TenantId};

use crate::{
    connect::{forge_event::ForgeDecision, lifecycle::Decision, lifecycle::InstallState},
    store::Tenant,
};

/// What happened to the tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TenantChange {
    /// Installed for the first time, or again (a reinstall, a Forge
    /// reinstall after an uninstall, a tenant Forge reached again).
    Installed,
    /// Uninstalled (Connect's callback, Forge's `preUninstall`, or Forge's
    /// long silence); its data stays until the purge.
    Uninstalled,
    /// A Connect tenant now has a Forge installation as well (Connect-on-Forge).
    MovedToForge,
    /// Deleted with all its data, past the retention.
    Purged,
}

/// The tenant a hook is told about, as it was when the change committed.
#[derive(Clone, Debug)]
pub struct TenantEvent {
    pub change: TenantChange,
    pub tenant_id: TenantId,
    pub base_url: BaseUrl,
}

pub type HookFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

pub trait LifecycleHook: Send + Sync + 'static {
    fn on<'a>(&'a self, event: &'a TenantEvent) -> HookFuture<'a>;
}

/// The hooks, in the order added.
#[derive(Clone, Default)]
pub struct LifecycleHooks {
    hooks: Vec<Arc<dyn LifecycleHook>>,
}

impl LifecycleHooks {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, hook: impl LifecycleHook) -> Self {
        self.hooks.push(Arc::new(hook));
        self
    }

    /// These hooks, then `other`'s.
    pub fn merge(mut self, other: LifecycleHooks) -> Self {
        self.hooks.extend(other.hooks);
        self
    }

    /// Runs every hook for `event`, each in its own task; a failure is logged.
    pub(crate) fn fire(&self, event: TenantEvent) {
        for hook in &self.hooks {
            let (hook, event) = (hook.clone(), event.clone());
            tokio::spawn(async move {
                if let Err(why) = hook.on(&event).await {
                    tracing::warn!(tenant_id = %event.tenant_id, change = ?event.change, %why, "lifecycle hook failed");
                }
            });
        }
    }
}

/// Whether the tenant was there before the change: not uninstalled and not
/// superseded by a site import (a disabled tenant is still installed).
fn present(tenant: &Tenant) -> bool {
    tenant.state != InstallState::Uninstalled && tenant.orphaned_at.is_none()
}

/// What an accepted Connect callback did to `before` (None: a new tenant),
/// given whether the install named a Forge installation the tenant lacked.
/// `decide` returns a change only when it is one (a retry is `Ignore`), so
/// each is told once.
pub(crate) fn connect_change(
    before: Option<&Tenant>,
    decision: &Decision,
    names_installation: bool,
) -> Vec<TenantChange> {
    let Some(before) = before else {
        return match decision {
            Decision::Create => vec![TenantChange::Installed],
            _ => vec![],
        };
    };
    match decision {
        Decision::Reinstall { .. } => {
            let back = (!present(before)).then_some(TenantChange::Installed);
            let gains_forge = (before.forge.is_none() && names_installation).then_some(TenantChange::MovedToForge);
            back.into_iter().chain(gains_forge).collect()
        }
        Decision::SetState(InstallState::Uninstalled) => vec![TenantChange::Uninstalled],
        _ => vec![],
    }
}

/// What an applied Forge delivery did to the tenant that held it before.
pub(crate) fn forge_change(before: Option<&Tenant>, decision: &ForgeDecision) -> Option<TenantChange> {
    match decision {
        ForgeDecision::Create | ForgeDecision::Revive => Some(TenantChange::Installed),
        ForgeDecision::Join if before.is_some_and(|b| b.connect.is_some() && b.forge.is_none()) => {
            Some(TenantChange::MovedToForge)
        }
        ForgeDecision::Uninstall if before.is_some_and(present) => Some(TenantChange::Uninstalled),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_changes_are_told_once() {
        use TenantChange::*;
        let active = Tenant::fixture("acme", 1);
        let gone = Tenant { state: InstallState::Uninstalled, ..active.clone() };
        let disabled = Tenant { state: InstallState::Disabled, ..active.clone() };
        let reinstall = Decision::Reinstall { state: InstallState::Installed, renamed_from: None };
        assert_eq!(connect_change(None, &Decision::Create, false), [Installed]);
        assert_eq!(connect_change(Some(&gone), &reinstall, false), [Installed]);
        assert_eq!(connect_change(Some(&gone), &reinstall, true), [Installed, MovedToForge], "both");
        assert_eq!(connect_change(Some(&active), &reinstall, false), [], "a new secret is not news");
        assert_eq!(connect_change(Some(&disabled), &reinstall, false), [], "an upgrade while disabled neither");
        assert_eq!(connect_change(Some(&active), &reinstall, true), [MovedToForge]);
        let uninstall = Decision::SetState(InstallState::Uninstalled);
        assert_eq!(connect_change(Some(&active), &uninstall, false), [Uninstalled]);
        assert_eq!(connect_change(Some(&disabled), &uninstall, false), [Uninstalled], "disabled, then uninstalled");
        assert_eq!(connect_change(Some(&active), &Decision::Ignore("a retry"), false), []);
        let disable = Decision::SetState(InstallState::Disabled);
        assert_eq!(connect_change(Some(&active), &disable, false), []);
    }

    #[test]
    fn forge_changes_are_told_once() {
        let connect = Tenant::fixture("acme", 1);
        let forge_born = Tenant { connect: None, ..connect.clone() };
        assert_eq!(forge_change(None, &ForgeDecision::Create), Some(TenantChange::Installed));
        assert_eq!(forge_change(Some(&connect), &ForgeDecision::Join), Some(TenantChange::MovedToForge));
        assert_eq!(forge_change(Some(&forge_born), &ForgeDecision::Join), None, "a Forge reinstall");
        assert_eq!(forge_change(Some(&connect), &ForgeDecision::Uninstall), Some(TenantChange::Uninstalled));
        let disabled = Tenant { state: InstallState::Disabled, ..connect.clone() };
        assert_eq!(forge_change(Some(&disabled), &ForgeDecision::Uninstall), Some(TenantChange::Uninstalled));
        assert_eq!(forge_change(Some(&connect), &ForgeDecision::Refresh(None)), None);
    }
}
