//! Server functions, grouped by what they serve, and the types they share.
//! Their bodies run on the server only (through each resource's backend
//! trait, which the server implements); the browser gets a generated HTTP
//! client that carries the session token.
//! The proof each endpoint accepts is declared in `server/src/http/routes.rs`;
//! only those under `public/` need none.
//!
//! Browser side, one way down: `client` (sends, renews on 401) → `renewal`
//! (when and how to renew) → `session` (the renewal call) → `token_store`;
//! `renewal` → `ap_bridge` (`AP.context.getToken()`, `AP.resize()`); both clients
//! → `browser_defaults`.

pub mod activity; // demo
pub mod admin;
#[cfg(feature = "hydrate")]
pub mod ap_bridge;
pub mod app_info;
#[cfg(feature = "ssr")]
pub mod backend;
mod browser_defaults;
pub(crate) mod client;
pub mod codec;
pub mod error;
pub mod me;
pub mod notes; // demo
#[cfg(feature = "hydrate")]
pub mod renewal;
pub mod session;
pub(crate) mod token_store;
pub mod types;

/// Server-function endpoints that need no caller (they reveal nothing a
/// descriptor does not). Everything else under `/api` requires one.
pub const PUBLIC_PREFIX: &str = "/api/public/";
