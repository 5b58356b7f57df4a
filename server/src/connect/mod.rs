//! The Connect protocol: pure, synchronous code with no I/O. HTTP, SQL and
//! key fetching call into these modules, never the other way round.

pub(crate) mod authorization;
pub(crate) mod callback_proof;
pub(crate) mod callback_token;
pub(crate) mod claims;
pub mod descriptor;
pub mod forge_event;
pub mod forge_manifest;
pub mod forge_modules;
pub mod forge_silence;
pub(crate) mod forge_token;
pub(crate) mod host_allowlist;
pub(crate) mod host_token;
pub(crate) mod kid;
pub(crate) mod license;
pub mod lifecycle;
pub(crate) mod payload;
pub(crate) mod product_events;
pub(crate) mod qsh;
pub(crate) mod session_token;
pub mod signature;
pub(crate) mod token;
pub(crate) mod webhook;
