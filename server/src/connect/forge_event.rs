//! Forge lifecycle events and scheduled triggers delivered to the app's
//! remote endpoints, each under a verified FIT of the module that delivers
//! there (`connect::forge_modules`): what a delivery changes. Pure and
//! idempotent (Forge retries a delivery up to four times):
//! - `installed` for an installation the app has never seen re-points the
//!   active tenant of its site, product and Forge environment (a Forge
//!   reinstall keeps the tenant's data), or brings back the tenant born on
//!   Forge there that was uninstalled and not yet purged (uninstall, then
//!   install again, within 30 days, keeps it too), or, where the site has
//!   neither, creates a tenant born on Forge (the FIT is the signature: seed
//!   000 holds);
//! - every other delivery must name an installation the app already knows,
//!   else it is refused, and never creates anything;
//! - `preUninstall` marks the tenant uninstalled, never deletes it;
//! - a tenant the app gave up on (Forge silent too long, `forge_silence`)
//!   comes back with any verified delivery for its installation but
//!   `preUninstall` (Forge delivers only to installed apps), which confirms
//!   the uninstall instead;
//! - a retry that changes nothing writes nothing.

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
}

/// A stored tenant, as the decision needs it.
#[derive(Clone, Debug)]
pub(crate) struct TenantView {
    pub state: InstallState,
    pub active: bool,
    /// Treated as uninstalled because Forge stopped reaching it, not because it said so.
    pub given_up: bool,
}

/// What the FIT of an `installed` finds on its site, in its environment.
#[derive(Clone, Debug)]
pub(crate) enum Site {
    /// The FIT names no site URL, cloudId or environment: no tenant can be born of it.
    Unnamed,
    /// No active tenant there in this environment.
    Vacant,
    /// An active tenant there in this environment.
    Taken,
    /// No active tenant, but a tenant born on Forge there in this environment,
    /// uninstalled by an earlier delivery than this one and not yet purged.
    Departed,
}

/// What the delivery does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ForgeDecision {
    /// A new tenant, born on Forge, for this installation.
    Create,
    /// Point the site's tenant (in this environment) at this new installationId.
    Join,
    /// Install the site's uninstalled tenant again, at this new installationId
    /// (or, for a tenant given up on, at its own).
    Revive,
    /// Mark the tenant uninstalled.
    Uninstall,
    /// Forge confirms the uninstall the app had assumed: no later delivery brings it back.
    ConfirmUninstall,
    /// Keep what the FIT brought (the system token); log the reason, if any.
    Refresh(Option<&'static str>),
    /// Answer 2xx, change nothing; logged for the tenant.
    Ignore(&'static str),
    /// Answer 2xx, write nothing at all (a retry of what was done).
    Nothing,
    /// Answer 401: the FIT names an installation the app does not know.
    Refuse(&'static str),
}

/// `by_installation`: the tenant that holds the FIT's installationId now.
/// `site`: for `installed` of an unknown installation, what its site holds.
pub(crate) fn decide(event: ForgeEvent, by_installation: Option<&TenantView>, site: &Site) -> ForgeDecision {
    match (event, by_installation) {
        (ForgeEvent::PreUninstall, Some(t)) if t.given_up => ForgeDecision::ConfirmUninstall,
        (_, Some(t)) if t.given_up => ForgeDecision::Revive,
        (ForgeEvent::Installed, Some(t)) if t.active => ForgeDecision::Nothing,
        (ForgeEvent::Installed, Some(_)) => ForgeDecision::Ignore("installed again for an inactive installation"),
        (ForgeEvent::Installed, None) => match site {
            Site::Taken => ForgeDecision::Join,
            Site::Departed => ForgeDecision::Revive,
            Site::Vacant => ForgeDecision::Create,
            Site::Unnamed => ForgeDecision::Refuse("the FIT names no site, cloudId or environment"),
        },
        (_, None) => ForgeDecision::Refuse("installation never installed by a verified event"),
        (ForgeEvent::PreUninstall, Some(t)) if t.state == InstallState::Uninstalled => ForgeDecision::Nothing,
        (ForgeEvent::PreUninstall, Some(_)) => ForgeDecision::Uninstall,
        (ForgeEvent::Hourly, Some(t)) if !t.active => ForgeDecision::Nothing,
        (_, Some(t)) if !t.active => ForgeDecision::Ignore("installation not active"),
        (ForgeEvent::Upgraded, Some(_)) => ForgeDecision::Refresh(Some("upgraded")),
        (ForgeEvent::Hourly, Some(_)) => ForgeDecision::Refresh(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ForgeEvent::*;

    const ACTIVE: TenantView = TenantView { state: InstallState::Enabled, active: true, given_up: false };
    const GONE: TenantView = TenantView { state: InstallState::Uninstalled, active: false, given_up: false };
    const DISABLED: TenantView = TenantView { state: InstallState::Disabled, active: false, given_up: false };
    const GIVEN_UP: TenantView = TenantView { state: InstallState::Uninstalled, active: false, given_up: true };

    #[test]
    fn installed_joins_the_sites_tenant_or_a_tenant_is_born() {
        assert_eq!(decide(Installed, None, &Site::Taken), ForgeDecision::Join, "a Forge reinstall");
        assert_eq!(decide(Installed, None, &Site::Vacant), ForgeDecision::Create, "born on Forge");
        assert_eq!(
            decide(Installed, None, &Site::Departed),
            ForgeDecision::Revive,
            "installed again after an uninstall"
        );
        assert!(matches!(decide(Installed, None, &Site::Unnamed), ForgeDecision::Refuse(_)));
        assert_eq!(decide(Installed, Some(&ACTIVE), &Site::Vacant), ForgeDecision::Nothing, "a retry");
        assert!(matches!(decide(Installed, Some(&GONE), &Site::Vacant), ForgeDecision::Ignore(_)), "no resurrection");
    }

    #[test]
    fn other_deliveries_need_a_known_installation_and_never_create() {
        for event in [Upgraded, PreUninstall, Hourly] {
            for site in [Site::Vacant, Site::Taken, Site::Unnamed, Site::Departed] {
                assert!(matches!(decide(event, None, &site), ForgeDecision::Refuse(_)), "{event:?} {site:?}");
            }
        }
        assert_eq!(decide(Upgraded, Some(&ACTIVE), &Site::Vacant), ForgeDecision::Refresh(Some("upgraded")));
        assert_eq!(decide(Hourly, Some(&ACTIVE), &Site::Vacant), ForgeDecision::Refresh(None));
        assert_eq!(decide(Hourly, Some(&DISABLED), &Site::Vacant), ForgeDecision::Nothing);
        assert!(matches!(decide(Upgraded, Some(&DISABLED), &Site::Vacant), ForgeDecision::Ignore(_)));
    }

    #[test]
    fn pre_uninstall_marks_once() {
        assert_eq!(decide(PreUninstall, Some(&ACTIVE), &Site::Vacant), ForgeDecision::Uninstall);
        assert_eq!(decide(PreUninstall, Some(&DISABLED), &Site::Vacant), ForgeDecision::Uninstall);
        assert_eq!(decide(PreUninstall, Some(&GONE), &Site::Vacant), ForgeDecision::Nothing, "a retry");
    }

    #[test]
    fn a_tenant_given_up_on_comes_back_with_any_delivery_and_pre_uninstall_confirms_it_gone() {
        for event in [Installed, Upgraded, Hourly] {
            assert_eq!(decide(event, Some(&GIVEN_UP), &Site::Vacant), ForgeDecision::Revive, "{event:?}");
        }
        assert_eq!(decide(PreUninstall, Some(&GIVEN_UP), &Site::Vacant), ForgeDecision::ConfirmUninstall);
        assert_eq!(decide(Hourly, Some(&GONE), &Site::Vacant), ForgeDecision::Nothing, "a real uninstall stays");
    }

    #[test]
    fn paths_and_names_are_distinct() {
        for event in ForgeEvent::ALL {
            assert_eq!(ForgeEvent::from_path(event.path()), Some(event));
        }
        let names: std::collections::BTreeSet<_> = ForgeEvent::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(names.len(), ForgeEvent::ALL.len());
    }
}
