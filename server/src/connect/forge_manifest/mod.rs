//! The Forge `manifest.yml`, generated from the same sources the app
//! serves from: the descriptor (`atlassian-connect.json`) and the module list
//! (`connect::forge_modules`) the routes read, so the manifest says which
//! route serves which module and the routes accept exactly its FITs.
//! Three modes, the steps of a vendor's way off Connect (or none of it):
//! - Connect-on-Forge (the default), for an app moving off Connect:
//!   `app.connect` names the descriptor key, its remote and JWT, the
//!   descriptor's modules sit under `connectModules` (lifecycle included),
//!   and the Forge side adds its endpoints and lifecycle triggers. Product
//!   events keep coming as Connect webhooks, and the pages stay Connect's.
//! - Migrated (`--migrated`), for a vendor done moving: `app.connect.key`
//!   stays (licences, data and the app account are the Connect app's), but no
//!   Connect module is left; pages and triggers are Forge's, as in native.
//! - Forge-native (`--native`), for a new app (Connect modules are not
//!   supported in a new Forge app): no `app.connect` and no Connect module;
//!   product events arrive through a `trigger`, and the scopes are the least
//!   the app's calls need.

mod connect;
mod model;
mod render;

pub(crate) use model::manifest;
pub use render::{manifest_json, manifest_yaml};

/// Until `FORGE_APP_ID` is set, the manifest names a placeholder (`forge register` prints the real one).
pub(crate) const PLACEHOLDER_APP_ID: &str = "ari:cloud:ecosystem::app/00000000-0000-0000-0000-000000000000";

/// The remote that serves the Connect modules, under the key Connect-on-Forge
/// apps have deployed with (Atlassian's examples name it so).
const CONNECT_REMOTE: &str = "connect";
/// The remote of an app that has no Connect module: its backend. The Custom
/// UI's calls name it (`requestRemote`), so the pages live only in the modes that use it.
const BACKEND_REMOTE: &str = app::host::FORGE_REMOTE;
/// The manifest variable that holds the remote's base URL. Forge reads manifest
/// variables from the shell that runs `forge deploy` (not from `forge variables set`,
/// which only the app's functions see), so each environment's deploy names its own.
pub(crate) const REMOTE_BASE_URL_VARIABLE: &str = "REMOTE_BASE_URL";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A Connect app on Forge: Connect modules beside the Forge ones.
    ConnectOnForge,
    /// A Connect app moved onto Forge for good: its Connect key, no Connect module.
    Migrated,
    /// A Forge app with a remote backend, and nothing of Connect.
    Native,
}

impl Mode {
    pub const ALL: [Self; 3] = [Self::ConnectOnForge, Self::Migrated, Self::Native];

    /// Whether the descriptor's modules (lifecycle, webhooks, pages) are declared.
    fn has_connect_modules(self) -> bool {
        self == Self::ConnectOnForge
    }

    /// Whether `app.connect.key` is kept: the Forge app is the Connect app.
    fn keeps_connect_key(self) -> bool {
        self != Self::Native
    }

    /// Whether the Forge Custom UI pages are declared. Under Connect-on-Forge
    /// the Connect pages stay: each page once (see `docs/forge.md`).
    fn has_forge_pages(self) -> bool {
        !self.has_connect_modules()
    }

    fn remote_key(self) -> &'static str {
        if self.has_connect_modules() { CONNECT_REMOTE } else { BACKEND_REMOTE }
    }
}

#[cfg(test)]
mod tests;
