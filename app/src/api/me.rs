//! Who the caller is: the verified identity, and the display name the host's
//! REST API knows for them.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::backend::{ApiFuture, Caller};
use super::{client::SessionClient, codec::JsonAnswer, error::ApiError, types::Identity};

/// What the server implements for these functions (in `server/src/api/identity.rs`).
#[cfg(feature = "ssr")]
pub trait MeBackend {
    /// At once, from what the caller's proof verified (a page renders it in place).
    fn identity(&self, caller: &Caller) -> Result<Identity, ApiError>;
    fn display_name<'a>(&'a self, caller: &'a Caller) -> ApiFuture<'a, Option<String>>;
}

/// The server's implementation, as the request's context holds it.
#[cfg(feature = "ssr")]
pub type SharedMeBackend = std::sync::Arc<dyn MeBackend + Send + Sync>;

#[server(endpoint = "me/identity", client = SessionClient, output = JsonAnswer)]
pub async fn get_identity() -> Result<Identity, ApiError> {
    super::backend::serve_now(|backend: &SharedMeBackend, caller| backend.identity(caller))
}

/// The identity the server renders a page with: read at once on the server,
/// and read back from the page's hydration data in the browser. `None` where
/// the browser renders the page itself (a Forge Custom UI), which then asks.
pub fn rendered_identity() -> Option<Result<Identity, ApiError>> {
    SharedValue::new(|| {
        #[cfg(feature = "ssr")]
        return Some(super::backend::serve_now(|backend: &SharedMeBackend, caller| backend.identity(caller)));
        #[cfg(not(feature = "ssr"))]
        None
    })
    .into_inner()
}

#[server(endpoint = "me/display_name", client = SessionClient, output = JsonAnswer)]
pub async fn display_name() -> Result<Option<String>, ApiError> {
    super::backend::serve(|backend: &SharedMeBackend, caller| backend.display_name(caller)).await
}
