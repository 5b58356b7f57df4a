//! Secrets at rest (seed 004): tenants' shared secrets are sealed with
//! AES-256-GCM under a dedicated key, bound to their clientKey, and opened
//! only to sign or verify. Nothing here implements `Debug` or `Display` in a
//! way that could print key or secret bytes.

mod cipher;
mod keyring;
mod load;
mod random;
mod session_keys;
mod shared_secret;

pub use cipher::SealedSecret;
pub use keyring::{AppKey, Keyring};
pub use load::{load_keyring, load_keys};
pub(crate) use random::{constant_time_eq, random_hex, request_hex};
pub(crate) use session_keys::SessionKeys;
pub(crate) use shared_secret::SharedSecret;
