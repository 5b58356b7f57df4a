//! The vendor's API: "on `jira:issue_updated`, do X", with the verified
//! tenant and the payload, typed as the handler wants it.

use std::{future::Future, pin::Pin, sync::Arc};

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::context::HandlerContext;
use crate::tenant_id::TenantId;

/// A delivery, as a handler sees it, whichever world sent it (a Connect
/// webhook or a Forge product event, under Connect's event name): the
/// tenant was verified before it was queued and is still active when the
/// handler runs.
#[derive(Clone, Debug)]
pub struct WebhookEvent {
    pub event: String,
    pub delivery_id: String,
    pub tenant_id: TenantId,
    pub base_url: String,
    /// The issue (`issue:KEY`) or page (`page:ID`) it is about, if any.
    pub entity_key: Option<String>,
    pub payload: Value,
    /// 1 on the first run, more on retries.
    pub attempt: i64,
    /// When this run started, by the app's clock (Unix seconds).
    pub handled_at: i64,
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
