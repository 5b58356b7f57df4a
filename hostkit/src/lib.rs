//! The host test kit: everything needed to act as Atlassian's side of the
//! Connect protocol against a real app on loopback, with no cloud site.
//!
//! - [`KeyServer`]: a local install-key server serving generated RSA public
//!   keys by `kid` (and misbehaving on request: down, slow, huge, not PEM);
//! - [`InstallKey`]: an RSA key pair standing in for Atlassian's signing key;
//! - [`Tenant`] and [`payload`]: lifecycle bodies as a site sends them;
//! - [`jwt`] and [`qsh`]: tokens signed the way the host signs them, with the
//!   right query string hash, plus raw tokens for attack tests;
//! - [`ForgeJwks`]: Forge's JWKS, the Forge Invocation Tokens it signs and its
//!   deliveries to remote endpoints; [`ProductApi`]: the product API Forge
//!   tokens call;
//! - [`Host`]: posts lifecycle callbacks and builds iframe URLs and context
//!   tokens for an app, exactly as Jira or Confluence would.
//!
//! Used by the app's behaviour tests and by the local fake host.

pub mod fake_host;
pub mod forge;
pub mod host;
pub mod jwt;
pub mod key_server;
pub mod keys;
pub mod payload;
mod personal_data;
pub mod product_api;
pub mod qsh;
mod rate_limits;
pub mod tenant;

pub use fake_host::FakeHost;
pub use forge::ForgeJwks;
pub use host::Host;
pub use key_server::{KeyServer, KeyServerMode};
pub use keys::InstallKey;
pub use product_api::ProductApi;
pub use tenant::Tenant;

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}

/// `bytes` random bytes as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the OS random source failed");
    hex::encode(buf)
}
