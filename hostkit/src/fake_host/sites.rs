//! The sites the fake host plays: their tenants, users and Forge installations,
//! kept in memory and saved to the state file so the dev loop finds them again.

use std::collections::HashMap;

use serde::Deserialize;

use super::FakeHost;
use crate::{forge::ForgeInstall, tenant::Tenant};

#[derive(Clone, Debug, serde::Serialize, Deserialize)]
pub(crate) struct FakeUser {
    pub display_name: String,
    pub admin: bool,
}

#[derive(Clone, Debug, serde::Serialize, Deserialize)]
pub(crate) struct Site {
    pub tenant: Tenant,
    pub users: HashMap<String, FakeUser>,
    /// Whether the app should be installed here (an uninstall from the
    /// control panel survives a restart of the dev loop).
    #[serde(default = "installed_by_default")]
    pub installed: bool,
    /// The site's stable id on the Forge side.
    #[serde(default = "crate::forge::cloud_id")]
    pub cloud_id: String,
    /// Set once the site moved onto Forge (Connect-on-Forge), or the app was
    /// installed there through Forge (a Forge-native site).
    #[serde(default)]
    pub forge: Option<ForgeInstall>,
    /// A site that knows the app only through Forge: it never sends a
    /// Connect install (the app is a new Forge app there).
    #[serde(default)]
    pub native: bool,
    /// The same app's development environment, installed beside production.
    #[serde(default)]
    pub forge_dev: Option<ForgeInstall>,
    /// Whether the site holds an active licence for the app: its pages carry
    /// `lic=active` (else `lic=none`), as its production FITs say.
    #[serde(default = "licensed_by_default")]
    pub licensed: bool,
}

fn installed_by_default() -> bool {
    true
}

/// A site has bought the app until a test or the control panel lapses it.
fn licensed_by_default() -> bool {
    true
}

impl Site {
    fn new(tenant: Tenant) -> Self {
        Self {
            tenant,
            users: HashMap::new(),
            installed: true,
            cloud_id: crate::forge::cloud_id(),
            forge: None,
            native: false,
            forge_dev: None,
            licensed: true,
        }
    }
}

impl FakeHost {
    /// Adds a site named `name` ("jira" or "confluence" product) and returns
    /// its tenant, ready to install. Confluence sites live under `/wiki`.
    pub fn add_site(&self, name: &str, product: &str) -> Tenant {
        self.insert_site(name, product, false)
    }

    pub(crate) fn insert_site(&self, name: &str, product: &str, native: bool) -> Tenant {
        let suffix = if product == "confluence" && !native { "/wiki" } else { "" };
        let mut tenant = Tenant::new(&format!("{}/{name}{suffix}", self.url));
        tenant.product_type = product.to_string();
        let site = Site { native, installed: !native, ..Site::new(tenant.clone()) };
        self.lock().sites.insert(name.to_string(), site);
        self.save();
        tenant
    }

    /// Loads the sites saved by an earlier run, if their base URLs still
    /// point at this host. Returns how many it loaded.
    pub fn load(&self) -> usize {
        let Some(path) = &self.state_file else { return 0 };
        let Ok(text) = std::fs::read_to_string(path) else { return 0 };
        let Ok(sites) = serde_json::from_str::<HashMap<String, Site>>(&text) else { return 0 };
        let mut sites: HashMap<String, Site> =
            sites.into_iter().filter(|(_, s)| s.tenant.base_url.starts_with(&self.url)).collect();
        // Installations saved before environments were: the app's production one.
        for install in sites.values_mut().filter_map(|s| s.forge.as_mut()).filter(|f| f.environment_id.is_empty()) {
            let production = ForgeInstall::new(&install.app_id, &install.cloud_id, &install.api_base_url);
            install.environment_id = production.environment_id;
        }
        let count = sites.len();
        self.lock().sites = sites;
        count
    }

    /// Saves the sites (tenants and users) to the state file, if any.
    pub(crate) fn save(&self) {
        let Some(path) = &self.state_file else { return };
        let text = serde_json::to_string_pretty(&self.lock().sites).unwrap_or_default();
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("fakehost: cannot save {}: {e}", path.display());
        }
    }

    pub fn add_user(&self, site: &str, account_id: &str, display_name: &str, admin: bool) {
        let cloud_id = self.lock().sites.get_mut(site).map(|s| {
            s.users.insert(account_id.to_string(), FakeUser { display_name: display_name.to_string(), admin });
            s.cloud_id.clone()
        });
        // The site's product API, where Forge's tokens call, knows its users too.
        if let (Some(forge), Some(cloud_id)) = (&self.forge, cloud_id) {
            forge.api.add_user(&cloud_id, account_id, display_name, admin);
        }
        self.save();
    }

    /// Replaces the site's tenant (after a reinstall with a new secret, or a
    /// site import with a new clientKey).
    pub(crate) fn set_tenant(&self, site: &str, tenant: Tenant) {
        if let Some(s) = self.lock().sites.get_mut(site) {
            s.tenant = tenant;
        }
    }

    /// Records the site's Forge installation (it moved onto Forge, or Forge reinstalled it).
    pub(crate) fn set_forge(&self, site: &str, install: Option<ForgeInstall>) {
        if let Some(s) = self.lock().sites.get_mut(site) {
            s.forge = install.map(|i| ForgeInstall { licensed: s.licensed, ..i });
        }
    }

    /// The site buys the app (or renews its licence): its pages and FITs say the licence is active.
    pub fn sell_license(&self, site: &str) {
        self.set_license(site, true);
    }

    /// The site's licence lapses: its pages say `lic=none`, its FITs `active: false`.
    pub fn lapse_license(&self, site: &str) {
        self.set_license(site, false);
    }

    fn set_license(&self, site: &str, active: bool) {
        if let Some(s) = self.lock().sites.get_mut(site) {
            s.licensed = active;
            for install in s.forge.iter_mut().chain(s.forge_dev.iter_mut()) {
                install.licensed = active;
            }
        }
        self.save();
    }

    /// Records whether the app is meant to be installed on `site`.
    pub(crate) fn set_installed(&self, site: &str, installed: bool) {
        if let Some(s) = self.lock().sites.get_mut(site) {
            s.installed = installed;
        }
    }

    /// Whether `site` moved onto Forge.
    pub fn site_is_on_forge(&self, site: &str) -> bool {
        self.site_forge_installation(site).is_some()
    }

    /// The site's Forge installation (what its FITs say), once on Forge.
    pub fn forge_installation(&self, site: &str) -> Option<ForgeInstall> {
        self.site(site).and_then(|s| s.forge)
    }

    /// The installationId of the site's Forge installation, once on Forge.
    pub fn site_forge_installation(&self, site: &str) -> Option<String> {
        self.site(site).and_then(|s| s.forge).map(|f| f.installation_id)
    }

    /// The sites where the app is meant to be installed.
    pub fn installed_sites(&self) -> Vec<String> {
        self.site_names().into_iter().filter(|name| self.site(name).is_some_and(|s| s.installed)).collect()
    }

    pub fn tenant(&self, site: &str) -> Option<Tenant> {
        self.lock().sites.get(site).map(|s| s.tenant.clone())
    }

    pub(crate) fn site_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.lock().sites.keys().cloned().collect();
        names.sort();
        names
    }

    pub(crate) fn users(&self, site: &str) -> Vec<(String, FakeUser)> {
        let mut users: Vec<(String, FakeUser)> =
            self.lock().sites.get(site).map(|s| s.users.clone().into_iter().collect()).unwrap_or_default();
        users.sort_by(|a, b| a.0.cmp(&b.0));
        users
    }

    pub(crate) fn site(&self, name: &str) -> Option<Site> {
        self.lock().sites.get(name).cloned()
    }
}
