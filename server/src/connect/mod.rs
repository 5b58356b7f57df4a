//! The Connect protocol: pure, synchronous code with no I/O. HTTP, SQL and
//! key fetching call into these modules, never the other way round.

pub mod authorization;
pub mod callback_proof;
pub mod callback_token;
pub mod claims;
pub mod descriptor;
pub mod forge_manifest;
pub mod host_allowlist;
pub mod host_token;
pub mod kid;
pub mod lifecycle;
pub mod payload;
pub mod qsh;
pub mod session_token;
pub mod token;
