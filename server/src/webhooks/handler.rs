//! The vendor's API: "on `jira:issue_updated`, do X", with the verified
//! tenant and the payload, typed as the handler wants it.

use std::{future::Future, pin::Pin, sync::Arc};

use ids::{BaseUrl, TenantId, UnixTime};
use serde::de::DeserializeOwned;
use serde_json::Value;

use reqwest::Method;

use crate::{
    clock::Clock,
    outbound::{
        forge_api::ForgeApi,
        host_client::{HostClient, HostRequest},
    },
    secrets::Keyring,
    store::{Database, Installation},
};

/// What the workers and the handlers' contexts use of the app (a part of its
/// state, so that this module needs nothing above it).
#[derive(Clone)]
pub(crate) struct HandlerTools {
    pub db: Database,
    pub clock: Arc<Clock>,
    pub keyring: Arc<Keyring>,
    pub forge_api: Arc<ForgeApi>,
    pub host_client: Arc<HostClient>,
    pub webhooks: Arc<Webhooks>,
}

/// A delivery, as a handler sees it, whichever world sent it (a Connect
/// webhook or a Forge product event, under Connect's event name): the
/// tenant was verified before it was queued and is still active when the
/// handler runs.
#[derive(Clone, Debug)]
pub struct WebhookEvent {
    pub event: String,
    pub delivery_id: String,
    pub tenant_id: TenantId,
    pub base_url: BaseUrl,
    /// The issue (`issue:KEY`) or page (`page:ID`) it is about, if any.
    pub entity_key: Option<String>,
    pub payload: Value,
    /// 1 on the first run, more on retries.
    pub attempt: i64,
    /// When this run started, by the app's clock (Unix seconds).
    pub handled_at: UnixTime,
}

impl WebhookEvent {
    /// The payload as the handler's own type.
    pub fn payload_as<T: DeserializeOwned>(&self) -> Result<T, HandlerError> {
        T::deserialize(&self.payload).map_err(|e| HandlerError::new(format!("unexpected payload: {e}")))
    }
}

/// Why a handler failed; the job is retried with backoff, then parked dead.
#[derive(Debug)]
pub struct HandlerError(pub String);

impl HandlerError {
    pub fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
}

pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = Result<(), HandlerError>> + Send + 'a>>;

pub trait WebhookHandler: Send + Sync + 'static {
    /// Handles one delivery. Runs at least once per delivery id and, unless
    /// a worker dies mid-run, exactly once; make side effects idempotent by
    /// `delivery_id` to be safe even then.
    fn handle<'a>(&'a self, cx: &'a HandlerContext<'a>) -> HandlerFuture<'a>;
}

/// The handlers of each event (`"*"`: every event), in the order added.
#[derive(Clone, Default)]
pub struct Webhooks {
    handlers: Vec<(String, Arc<dyn WebhookHandler>)>,
}

impl Webhooks {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `handler` for `event` (`"*"` for all).
    pub fn on(mut self, event: &str, handler: impl WebhookHandler) -> Self {
        self.handlers.push((event.to_string(), Arc::new(handler)));
        self
    }

    /// These handlers, then `other`'s.
    pub fn merge(mut self, other: Webhooks) -> Self {
        self.handlers.extend(other.handlers);
        self
    }

    pub(crate) fn for_event<'a>(&'a self, event: &'a str) -> impl Iterator<Item = &'a Arc<dyn WebhookHandler>> + 'a {
        self.handlers.iter().filter(move |(on, _)| on == "*" || on == event).map(|(_, h)| h)
    }
}

/// What a handler works with: the delivery, the verified tenant it is for,
/// and the app's means to act on it (calling the tenant's site as the app,
/// in whichever world the tenant lives), never the raw database pool.
pub struct HandlerContext<'a> {
    pub event: &'a WebhookEvent,
    installation: &'a Installation,
    tools: &'a HandlerTools,
}

impl<'a> HandlerContext<'a> {
    pub(crate) fn new(event: &'a WebhookEvent, installation: &'a Installation, tools: &'a HandlerTools) -> Self {
        Self { event, installation, tools }
    }

    /// GETs `path` with `query` (e.g. `/rest/api/3/user`, `accountId=…`) from
    /// the tenant's site as the app: a Connect JWT under the tenant's shared
    /// secret, or, for a tenant born on Forge, its newest system token.
    pub async fn get_as_app(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, HandlerError> {
        let (state, installation) = (self.tools, self.installation);
        if installation.sealed_secret().is_none() {
            let encoded = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(query).finish();
            let path = if encoded.is_empty() { path.to_string() } else { format!("{path}?{encoded}") };
            let answer = state.forge_api.get_as_app(&state.db, &state.keyring, installation, &path).await;
            return answer.map_err(|e| HandlerError::new(format!("the product API: {e}")));
        }
        let (client_key, sealed) = installation.sealed_secret().ok_or_else(|| HandlerError::new("no shared secret"))?;
        let secret = state.keyring.open(client_key, &sealed).map_err(|e| HandlerError::new(e.to_string()))?;
        let request = HostRequest { method: Method::GET, path, query, body: None };
        let answer = state.host_client.send(installation, &secret, request, state.clock.now()).await;
        answer.map_err(|e| HandlerError::new(format!("the tenant's site: {e}")))
    }

    /// The app's own store, for the app's own handlers.
    pub(crate) fn db(&self) -> &Database {
        &self.tools.db
    }
}
