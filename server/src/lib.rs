//! The Connect app's server: HTTP, the Connect lifecycle, storage.
//! Layout: `connect/` is the protocol (pure), `store/` the database (SQL lives
//! there only), `http/` the router and middleware, `startup` wires them.

pub mod api;
pub mod cli;
pub mod client_address;
pub mod clock;
pub mod config;
pub mod connect;
pub mod console;
pub mod error;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod host_ids;
pub mod http;
pub(crate) mod lifecycle;
pub mod maintenance;
pub(crate) mod metrics;
pub mod network_shares;
pub mod operator_cli;
pub mod outbound;
pub mod read_only_alarm;
pub mod secrets;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod tenant_id;
pub mod webhooks;

#[cfg(test)]
mod properties;
