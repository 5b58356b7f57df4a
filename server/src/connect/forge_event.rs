//! Forge lifecycle events and scheduled triggers delivered to the app's
//! remote endpoints, each under a verified FIT: what a delivery changes.
//! Pure and idempotent (Forge retries a delivery up to four times):
//! - `installed` joins a new installationId to the tenant of its site (found
//!   by cloudId) only when that tenant is active; it never creates a tenant,
//!   which needs the signed Connect install and its shared secret;
//! - every other delivery must name an installation the app already joined
//!   (seed 000 extended to Forge), else it is refused;
//! - `preUninstall` marks the tenant uninstalled, never deletes it.

use super::lifecycle::InstallState;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForgeEvent {
    Installed,
    Upgraded,
    PreUninstall,
    Hourly,
}

impl ForgeEvent {
    /// Every delivery the app serves: the routes and the manifest read this list.
    pub const ALL: [Self; 4] = [Self::Installed, Self::Upgraded, Self::PreUninstall, Self::Hourly];

    /// The endpoint path under the app's base URL.
    pub fn path(self) -> &'static str {
        match self {
            Self::Installed => "/forge/events/installed",
            Self::Upgraded => "/forge/events/upgraded",
            Self::PreUninstall => "/forge/events/pre-uninstall",
            Self::Hourly => "/forge/scheduled/hourly",
        }
    }

    pub(crate) fn from_path(path: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|event| event.path() == path)
    }

    /// The name Forge gives it, as logged.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Installed => "avi:forge:installed:app",
            Self::Upgraded => "avi:forge:upgraded:app",
            Self::PreUninstall => "preUninstall",
            Self::Hourly => "scheduledTrigger",
        }
    }

    /// The manifest's key for the module and its endpoint.
    pub fn module_key(self) -> &'static str {
        match self {
            Self::Installed => "forge-installed",
            Self::Upgraded => "forge-upgraded",
            Self::PreUninstall => "forge-pre-uninstall",
            Self::Hourly => "forge-hourly",
        }
    }
}

/// A stored tenant, as the decision needs it.
#[derive(Clone, Debug)]
pub(crate) struct TenantView {
    pub state: InstallState,
    pub active: bool,
}

/// What the delivery does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ForgeDecision {
    /// Point the site's tenant at this new installationId.
    Join,
    /// Mark the tenant uninstalled.
    Uninstall,
    /// Keep the system token; nothing else changes.
    Refresh(&'static str),
    /// Answer 2xx, change nothing (no tenant to change).
    Ignore(&'static str),
    /// Answer 401: the FIT names an installation the app never joined.
    Refuse(&'static str),
}

/// `by_installation`: the tenant that holds the FIT's installationId now.
/// `by_site`: the active tenant of the FIT's cloudId (only for `installed`).
pub(crate) fn decide(
    event: ForgeEvent,
    by_installation: Option<&TenantView>,
    by_site: Option<&TenantView>,
) -> ForgeDecision {
    match (event, by_installation) {
        (ForgeEvent::Installed, Some(_)) => ForgeDecision::Refresh("installation already joined"),
        (ForgeEvent::Installed, None) => match by_site {
            Some(site) if site.active => ForgeDecision::Join,
            Some(_) => ForgeDecision::Ignore("the site's tenant is not active; its signed Connect install joins it"),
            None => ForgeDecision::Ignore("no tenant for this site yet; its signed Connect install joins it"),
        },
        (_, None) => ForgeDecision::Refuse("installation never joined by a verified install"),
        (ForgeEvent::PreUninstall, Some(t)) if t.state == InstallState::Uninstalled => {
            ForgeDecision::Ignore("already uninstalled")
        }
        (ForgeEvent::PreUninstall, Some(_)) => ForgeDecision::Uninstall,
        (_, Some(t)) if !t.active => ForgeDecision::Ignore("installation not active"),
        (ForgeEvent::Upgraded, Some(_)) => ForgeDecision::Refresh("upgraded"),
        (_, Some(_)) => ForgeDecision::Refresh("scheduled refresh"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ForgeEvent::*;

    const ACTIVE: TenantView = TenantView { state: InstallState::Enabled, active: true };
    const GONE: TenantView = TenantView { state: InstallState::Uninstalled, active: false };
    const DISABLED: TenantView = TenantView { state: InstallState::Disabled, active: false };

    #[test]
    fn installed_joins_only_an_active_tenant_of_the_site() {
        assert_eq!(decide(Installed, None, Some(&ACTIVE)), ForgeDecision::Join);
        assert!(matches!(decide(Installed, None, Some(&GONE)), ForgeDecision::Ignore(_)), "no resurrection");
        assert!(matches!(decide(Installed, None, None), ForgeDecision::Ignore(_)), "never a new tenant");
        assert!(matches!(decide(Installed, Some(&ACTIVE), Some(&ACTIVE)), ForgeDecision::Refresh(_)), "a retry");
    }

    #[test]
    fn other_deliveries_need_a_joined_installation() {
        for event in [Upgraded, PreUninstall, Hourly] {
            assert!(matches!(decide(event, None, Some(&ACTIVE)), ForgeDecision::Refuse(_)), "{event:?}");
        }
        assert!(matches!(decide(Upgraded, Some(&ACTIVE), None), ForgeDecision::Refresh(_)));
        assert!(matches!(decide(Hourly, Some(&ACTIVE), None), ForgeDecision::Refresh(_)));
        assert!(matches!(decide(Hourly, Some(&DISABLED), None), ForgeDecision::Ignore(_)));
    }

    #[test]
    fn pre_uninstall_marks_once() {
        assert_eq!(decide(PreUninstall, Some(&ACTIVE), None), ForgeDecision::Uninstall);
        assert_eq!(decide(PreUninstall, Some(&DISABLED), None), ForgeDecision::Uninstall);
        assert!(matches!(decide(PreUninstall, Some(&GONE), None), ForgeDecision::Ignore(_)), "a retry");
    }

    #[test]
    fn paths_and_names_are_distinct() {
        for event in ForgeEvent::ALL {
            assert_eq!(ForgeEvent::from_path(event.path()), Some(event));
        }
        let names: std::collections::BTreeSet<_> = ForgeEvent::ALL.iter().map(|e| e.module_key()).collect();
        assert_eq!(names.len(), ForgeEvent::ALL.len());
    }
}
