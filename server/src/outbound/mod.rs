//! Calls the app makes to other servers (Atlassian's install-key server,
//! Forge's JWKS, the tenants' sites) and the credentials it keeps for them.
//! Each client bounds time, size and redirects.

pub(crate) mod act_as_user;
pub(crate) mod admin_check;
pub(crate) mod answer;
mod capped_body;
mod fetch_queue;
pub(crate) mod forge_api;
pub(crate) mod forge_keys;
pub(crate) mod host_api;
pub(crate) mod host_client;
mod impersonation;
pub(crate) mod install_keys;
pub(crate) mod site_client;
pub(crate) mod system_tokens;
mod user_tokens;
