//! The Connect protocol: pure, synchronous code with no I/O. HTTP, SQL and
//! key fetching call into these modules, never the other way round.

pub mod descriptor;
pub mod host_allowlist;
