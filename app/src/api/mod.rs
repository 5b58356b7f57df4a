//! Server functions, grouped by what they serve, and the types they share.
//! Their bodies run on the server only (through [`backend::Backend`]); the
//! browser gets a generated HTTP client that carries the session token.
//! Every endpoint requires a verified caller except those under `public/`.

pub mod admin;
pub mod app_info;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod client;
pub mod error;
pub mod me;
pub mod notes;
#[cfg(feature = "hydrate")]
pub mod renewal;
pub mod session;
pub mod types;

/// Server-function endpoints that need no caller (they reveal nothing a
/// descriptor does not). Everything else under `/api` requires one.
pub const PUBLIC_PREFIX: &str = "/api/public/";
