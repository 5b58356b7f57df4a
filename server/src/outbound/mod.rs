//! Calls the app makes to other servers: Atlassian's install-key server and
//! the tenants' sites. Each client bounds time, size and redirects.

pub(crate) mod admin_check;
mod capped_body;
pub(crate) mod forge_keys;
pub(crate) mod host_api;
pub(crate) mod host_client;
pub(crate) mod install_keys;
