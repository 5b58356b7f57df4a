//! The app a test asks for: the defaults, changed only where the test says
//! so, and so the reader sees at the call what is special about this app.

use std::collections::HashMap;

use server::vendor::{LifecycleHooks, VendorMigrations, Webhooks};

use super::{app::TestApp, db::DbKind};

/// One change to the configuration; changes apply in the order given.
type Edit = Box<dyn FnOnce(&mut HashMap<String, String>)>;

/// A [`TestApp`] not yet started; see [`TestApp::builder`].
pub struct TestAppBuilder {
    kind: DbKind,
    forge: bool,
    webhooks: Webhooks,
    hooks: LifecycleHooks,
    migrations: Option<VendorMigrations>,
    edits: Vec<Edit>,
}

impl TestAppBuilder {
    pub(super) fn new(kind: DbKind) -> Self {
        Self {
            kind,
            forge: false,
            webhooks: Webhooks::new(),
            hooks: LifecycleHooks::new(),
            migrations: None,
            edits: Vec::new(),
        }
    }

    /// Sets the configuration variable `name`, over its default if it has one.
    pub fn var(self, name: &str, value: impl Into<String>) -> Self {
        let (name, value) = (name.to_string(), value.into());
        self.vars(move |vars| {
            vars.insert(name, value);
        })
    }

    /// Sets `name` from its value as the start would give it, such as the
    /// fresh database's URL pointed through a proxy.
    pub fn var_from(self, name: &str, value: impl FnOnce(&str) -> String + 'static) -> Self {
        let name = name.to_string();
        self.vars(move |vars| {
            let new = value(vars.get(&name).map_or("", String::as_str));
            vars.insert(name, new);
        })
    }

    fn vars(mut self, edit: impl FnOnce(&mut HashMap<String, String>) + 'static) -> Self {
        self.edits.push(Box::new(edit));
        self
    }

    /// Runs a vendor's webhook handlers beside the app's own.
    pub fn handlers(mut self, webhooks: Webhooks) -> Self {
        self.webhooks = webhooks;
        self
    }

    /// Runs a vendor's lifecycle hooks.
    pub fn lifecycle(mut self, hooks: LifecycleHooks) -> Self {
        self.hooks = hooks;
        self
    }

    /// Runs a vendor's own migrations after the house's.
    pub fn migrations(mut self, migrations: VendorMigrations) -> Self {
        self.migrations = Some(migrations);
        self
    }

    /// Turns Forge on, beside a fake host that plays Forge (`app.fake.forge`:
    /// its JWKS and product API).
    pub fn forge(mut self) -> Self {
        self.forge = true;
        self
    }

    pub async fn start(self) -> TestApp {
        let Self { kind, forge, webhooks, hooks, migrations, edits } = self;
        TestApp::launch(kind, forge, (webhooks, hooks, migrations), move |vars| {
            for edit in edits {
                edit(vars);
            }
        })
        .await
    }
}
