//! Who the caller is: the verified identity, and the display name the host's
//! REST API knows for them.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::backend::{ApiFuture, Caller};
use super::{client::SessionClient, codec::JsonAnswer, error::ApiError, types::Identity};

/// What the server implements for these functions (in `server/src/api/identity.rs`).
#[cfg(feature = "ssr")]
pub trait MeBackend {
    fn identity<'a>(&'a self, caller: &'a Caller) -> ApiFuture<'a, Identity>;
    fn display_name<'a>(&'a self, caller: &'a Caller) -> ApiFuture<'a, Option<String>>;
}

/// The server's implementation, as the request's context holds it.
#[cfg(feature = "ssr")]
pub type SharedMeBackend = std::sync::Arc<dyn MeBackend + Send + Sync>;

#[server(endpoint = "me/identity", client = SessionClient, output = JsonAnswer)]
pub async fn get_identity() -> Result<Identity, ApiError> {
    super::backend::serve(|backend: &SharedMeBackend, caller| backend.identity(caller)).await
}

#[server(endpoint = "me/display_name", client = SessionClient, output = JsonAnswer)]
pub async fn display_name() -> Result<Option<String>, ApiError> {
    super::backend::serve(|backend: &SharedMeBackend, caller| backend.display_name(caller)).await
}
