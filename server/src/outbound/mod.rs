//! Calls the app makes to other servers: Atlassian's install-key server.
//! Each client bounds time, size and redirects.

pub mod install_keys;
