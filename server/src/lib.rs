//! The Connect app's server: HTTP, the Connect lifecycle, storage.
//! Layout: `connect/` is the protocol (pure), `store/` the database (SQL lives
//! there only), `http/` the router and middleware, `startup` wires them.
//! A vendor builds on [`vendor`], the one public surface.

pub mod vendor;

// The binary's commands and the test suite's reach into the house: public so
// that `main.rs`, `tests/` and `fuzz/` can use them, not an API for vendors.
#[doc(hidden)]
pub mod cli;
#[doc(hidden)]
pub mod config;
#[doc(hidden)]
pub mod connect;
#[doc(hidden)]
pub mod console;
#[doc(hidden)]
pub mod error;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
#[doc(hidden)]
pub mod http;
#[doc(hidden)]
pub mod maintenance;
#[doc(hidden)]
pub mod operator_cli;
#[doc(hidden)]
pub mod secrets;
#[doc(hidden)]
pub mod store;
#[doc(hidden)]
pub mod telemetry;
#[doc(hidden)]
pub mod tenant;

pub(crate) mod api;
pub(crate) mod client_address;
pub(crate) mod clock;
pub(crate) mod ip_networks;
pub(crate) mod lifecycle;
pub(crate) mod lifecycle_hooks;
pub(crate) mod metrics;
pub(crate) mod network_shares;
pub(crate) mod outbound;
pub(crate) mod privacy;
pub(crate) mod proven_networks;
pub(crate) mod read_only_alarm;
pub(crate) mod startup;
pub(crate) mod state;
pub(crate) mod text_enum;
pub(crate) mod webhooks;

#[cfg(test)]
mod properties;
