//! The Forge `manifest.yml`, generated from the same sources the app
//! serves from: the descriptor (`atlassian-connect.json`) and the module list
//! (`connect::forge_modules`) the routes read, so the manifest says which
//! route serves which module and the routes accept exactly its FITs.
//! Two modes:
//! - Connect-on-Forge (the default), for an app moving off Connect:
//!   `app.connect.key` is the descriptor key, the Connect modules keep their
//!   kind under the product's `connect-` prefix, lifecycle included, and the
//!   Forge side adds its endpoints, triggers and pages. Product events keep
//!   coming as Connect webhooks.
//! - Forge-native (`--native`), for a new app (Connect modules are not
//!   supported in a new Forge app): no `app.connect` and no `connect-*`
//!   module; product events arrive through a `trigger`, and the scopes are
//!   the least the app's calls need.

mod model;
mod render;

pub(crate) use model::manifest;
pub use render::{manifest_json, manifest_yaml};

/// Until `FORGE_APP_ID` is set, the manifest names a placeholder (`forge register` prints the real one).
pub(crate) const PLACEHOLDER_APP_ID: &str = "ari:cloud:ecosystem::app/00000000-0000-0000-0000-000000000000";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A Connect app on Forge: Connect modules beside the Forge ones.
    ConnectOnForge,
    /// A Forge app with a remote backend, and nothing of Connect.
    Native,
}

#[cfg(test)]
mod tests;
