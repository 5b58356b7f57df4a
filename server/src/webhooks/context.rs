//! What a handler works with: the delivery, the verified tenant it is for,
//! and the app's means to act on it (calling the tenant's site as the app,
//! in whichever world the tenant lives), never the raw database pool.

use reqwest::Method;
use serde_json::Value;

use super::handler::{HandlerError, WebhookEvent};
use crate::{
    outbound::host_client::HostRequest,
    state::AppState,
    store::{Database, Installation},
};

pub struct HandlerContext<'a> {
    pub event: &'a WebhookEvent,
    installation: &'a Installation,
    state: &'a AppState,
}

impl<'a> HandlerContext<'a> {
    pub(crate) fn new(event: &'a WebhookEvent, installation: &'a Installation, state: &'a AppState) -> Self {
        Self { event, installation, state }
    }

    /// GETs `path` with `query` (e.g. `/rest/api/3/user`, `accountId=…`) from
    /// the tenant's site as the app: a Connect JWT under the tenant's shared
    /// secret, or, for a tenant born on Forge, its newest system token.
    pub async fn get_as_app(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, HandlerError> {
        let (state, installation) = (self.state, self.installation);
        if installation.sealed_secret().is_none() {
            let encoded = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(query).finish();
            let path = if encoded.is_empty() { path.to_string() } else { format!("{path}?{encoded}") };
            let answer = state.forge_api.get_as_app(&state.db, &state.keyring, installation, &path).await;
            return answer.map_err(|e| HandlerError::new(format!("the product API: {e}")));
        }
        let secret = state.open_secret(installation).map_err(|e| HandlerError::new(e.to_string()))?;
        let request = HostRequest { method: Method::GET, path, query, body: None };
        let answer = state.host_client.send(installation, &secret, request, state.clock.now()).await;
        answer.map_err(|e| HandlerError::new(format!("the tenant's site: {e}")))
    }

    /// The app's own store, for the app's own handlers.
    pub(crate) fn db(&self) -> &Database {
        &self.state.db
    }
}
