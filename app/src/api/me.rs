//! Who the caller is: the verified identity, and the display name the host's
//! REST API knows for them.

use leptos::prelude::*;

use super::{client::SessionClient, codec::JsonAnswer, error::ApiError, types::Identity};

#[server(endpoint = "me/identity", client = SessionClient, output = JsonAnswer)]
pub async fn get_identity() -> Result<Identity, ApiError> {
    super::backend::serve(|backend, caller| backend.identity(caller)).await
}

#[server(endpoint = "me/display_name", client = SessionClient, output = JsonAnswer)]
pub async fn display_name() -> Result<Option<String>, ApiError> {
    super::backend::serve(|backend, caller| backend.display_name(caller)).await
}
