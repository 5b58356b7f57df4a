//! Calls the app makes to other servers: Atlassian's install-key server and
//! the tenants' sites. Each client bounds time, size and redirects.

pub mod admin_check;
pub mod host_api;
pub mod host_client;
pub mod install_keys;
