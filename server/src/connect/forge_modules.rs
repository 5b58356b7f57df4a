//! Every Forge module the app declares, the endpoint its invocations reach,
//! and the rule that binds each route to the modules whose FITs it accepts.
//! The manifest is written from this list and the routes read it, so a
//! module cannot be declared without its route knowing it, nor the reverse.
//!
//! Why a route must check the module: a UI module's calls carry the path the
//! page chose (`invokeRemote`, `requestRemote`), so a user can have a FIT of
//! that module, with their own principal, delivered to any route of the
//! remote. Only Forge itself invokes a trigger, `preUninstall` or the
//! scheduled trigger, and never with a principal.

use super::forge_event::ForgeEvent;

/// The product a manifest is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Product {
    Jira,
    Confluence,
}

impl Product {
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            Self::Jira => "jira",
            Self::Confluence => "confluence",
        }
    }
}

impl std::str::FromStr for Product {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "jira" => Ok(Self::Jira),
            "confluence" => Ok(Self::Confluence),
            other => Err(format!("product must be jira or confluence, not {other:?}")),
        }
    }
}

/// Where the invocations of a module arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModuleRoute {
    /// A lifecycle event, `preUninstall` or the scheduled trigger, each at its own path.
    Event(ForgeEvent),
    /// Product events (issues, pages, comments).
    ProductEvents,
    /// The app's API: the server functions a UI page calls.
    Api,
}

/// Product events are delivered here.
pub const PRODUCT_EVENTS_PATH: &str = "/forge/events/product";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForgeModule {
    Installed,
    Upgraded,
    PreUninstall,
    Hourly,
    ProductEvents,
    GlobalPage,
    AdminPage,
}

impl ForgeModule {
    pub const ALL: [Self; 7] = [
        Self::Installed,
        Self::Upgraded,
        Self::PreUninstall,
        Self::Hourly,
        Self::ProductEvents,
        Self::GlobalPage,
        Self::AdminPage,
    ];

    /// The manifest's key for the module: what a FIT names as `app.module.key`.
    pub fn key(self) -> &'static str {
        match self {
            Self::Installed => "forge-installed",
            Self::Upgraded => "forge-upgraded",
            Self::PreUninstall => "forge-pre-uninstall",
            Self::Hourly => "forge-hourly",
            Self::ProductEvents => "product-events",
            // The page's own code reads these to know which page it shows.
            Self::GlobalPage => app::host::FORGE_GLOBAL_PAGE,
            Self::AdminPage => app::host::FORGE_ADMIN_PAGE,
        }
    }

    /// The key of the `endpoint` module it invokes (at most 23 characters).
    /// Forge's docs call `app.module.key` "the module key for this endpoint"
    /// without saying which of the two it is, so either is accepted.
    pub fn endpoint_key(self) -> &'static str {
        match self {
            Self::Installed => "installed-endpoint",
            Self::Upgraded => "upgraded-endpoint",
            Self::PreUninstall => "uninstall-endpoint",
            Self::Hourly => "hourly-endpoint",
            Self::ProductEvents => "events-endpoint",
            Self::GlobalPage | Self::AdminPage => "ui-endpoint",
        }
    }

    pub fn route(self) -> ModuleRoute {
        match self {
            Self::Installed => ModuleRoute::Event(ForgeEvent::Installed),
            Self::Upgraded => ModuleRoute::Event(ForgeEvent::Upgraded),
            Self::PreUninstall => ModuleRoute::Event(ForgeEvent::PreUninstall),
            Self::Hourly => ModuleRoute::Event(ForgeEvent::Hourly),
            Self::ProductEvents => ModuleRoute::ProductEvents,
            Self::GlobalPage | Self::AdminPage => ModuleRoute::Api,
        }
    }

    /// The path its endpoint names; UI calls give their own (the server functions' paths).
    pub fn path(self) -> Option<&'static str> {
        match self.route() {
            ModuleRoute::Event(event) => Some(event.path()),
            ModuleRoute::ProductEvents => Some(PRODUCT_EVENTS_PATH),
            ModuleRoute::Api => None,
        }
    }

    /// A page a user opens: its FITs may carry the user as `principal`.
    pub fn is_ui(self) -> bool {
        matches!(self, Self::GlobalPage | Self::AdminPage)
    }

    /// Whether its endpoint asks Forge for the app's system token. The
    /// uninstall hook does not: the token would be forgotten at once.
    pub fn asks_system_token(self) -> bool {
        !self.is_ui() && self != Self::PreUninstall
    }

    /// The module that invokes `route`'s event, for the fake host and tests.
    pub fn of_event(event: ForgeEvent) -> Self {
        match event {
            ForgeEvent::Installed => Self::Installed,
            ForgeEvent::Upgraded => Self::Upgraded,
            ForgeEvent::PreUninstall => Self::PreUninstall,
            ForgeEvent::Hourly => Self::Hourly,
        }
    }
}

/// The module whose FIT may reach `route`: `module_key` must name a module
/// (or its endpoint) that is served there, and only a UI module's FIT may
/// carry a principal. `None`: refused with a 401, whatever the reason.
pub(crate) fn admitted(route: ModuleRoute, module_key: Option<&str>, has_principal: bool) -> Option<ForgeModule> {
    let key = module_key?;
    let module =
        ForgeModule::ALL.into_iter().find(|m| m.route() == route && (m.key() == key || m.endpoint_key() == key))?;
    (module.is_ui() || !has_principal).then_some(module)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ModuleRoute::*;

    const ROUTES: [ModuleRoute; 6] = [
        Event(ForgeEvent::Installed),
        Event(ForgeEvent::Upgraded),
        Event(ForgeEvent::PreUninstall),
        Event(ForgeEvent::Hourly),
        ProductEvents,
        Api,
    ];

    /// Every route, every module's FIT, with and without a principal: only
    /// the module served there passes, and only a page's FIT with a user.
    #[test]
    fn each_route_admits_its_own_modules_and_only_pages_carry_a_user() {
        for route in ROUTES {
            for module in ForgeModule::ALL {
                let own = module.route() == route;
                let with_user = own && module.is_ui();
                assert_eq!(admitted(route, Some(module.key()), false), own.then_some(module), "{route:?} {module:?}");
                assert_eq!(admitted(route, Some(module.key()), true), with_user.then_some(module), "{route:?} user");
                // The pages share an endpoint: its key names either, with the same rights.
                let by_endpoint = |user| admitted(route, Some(module.endpoint_key()), user).map(ForgeModule::route);
                assert_eq!(by_endpoint(false), own.then_some(route), "{route:?} {}", module.endpoint_key());
                assert_eq!(by_endpoint(true), with_user.then_some(route), "{route:?} {} user", module.endpoint_key());
            }
            assert_eq!(admitted(route, None, false), None, "{route:?}: a FIT that names no module");
            assert_eq!(admitted(route, Some("notes"), true), None, "{route:?}: a module the manifest lacks");
        }
    }

    #[test]
    fn the_vectors_the_attack_needs() {
        // A user's page FIT sent to the uninstall hook, with or without the user.
        assert_eq!(admitted(Event(ForgeEvent::PreUninstall), Some("notes-page"), true), None);
        assert_eq!(admitted(Event(ForgeEvent::PreUninstall), Some("notes-page"), false), None);
        // The hourly trigger's FIT on the install route, and the install FIT on the API.
        assert_eq!(admitted(Event(ForgeEvent::Installed), Some("forge-hourly"), false), None);
        assert_eq!(admitted(Api, Some("forge-installed"), false), None);
        assert_eq!(admitted(Api, Some("notes-admin"), true), Some(ForgeModule::AdminPage));
        assert_eq!(
            admitted(Event(ForgeEvent::Installed), Some("forge-installed"), false),
            Some(ForgeModule::Installed)
        );
    }

    #[test]
    fn keys_are_distinct_and_fit_the_manifest() {
        let keys: std::collections::BTreeSet<&str> = ForgeModule::ALL.iter().map(|m| m.key()).collect();
        assert_eq!(keys.len(), ForgeModule::ALL.len());
        for module in ForgeModule::ALL {
            assert!(module.endpoint_key().len() <= 23, "{}", module.endpoint_key());
            assert!(!keys.contains(module.endpoint_key()), "an endpoint key is no module's key");
            assert_eq!(module.path().is_none(), module.is_ui());
        }
        for event in ForgeEvent::ALL {
            assert_eq!(ForgeModule::of_event(event).route(), Event(event));
        }
        assert!(!ForgeModule::PreUninstall.asks_system_token() && ForgeModule::Hourly.asks_system_token());
    }
}
