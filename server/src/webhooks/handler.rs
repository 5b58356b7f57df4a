//! The vendor's API: "on `jira:issue_updated`, do X", with the verified
//! tenant and the payload, typed as the handler wants it.

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use ids::{AccountId, BaseUrl, TenantId, UnixTime};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{
    clock::Clock,
    outbound::{
        act_as_user::ActAsUser,
        forge_api::ForgeApi,
        host_client::HostClient,
        site_client::{Acting, SiteCall, SiteClient},
    },
    secrets::Keyring,
    store::{Database, Tenant, TenantDb},
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
    pub act_as_user: Arc<ActAsUser>,
    pub webhooks: Arc<Webhooks>,
}

impl HandlerTools {
    pub(crate) fn site(&self) -> SiteClient<'_> {
        SiteClient::new(&self.db, &self.keyring, &self.clock, &self.host_client, &self.forge_api, &self.act_as_user)
    }
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
/// When the tenant's site limited a call (Atlassian's 429), the job is put
/// back at the limit's `Retry-After` instead, without counting an attempt.
#[derive(Debug)]
pub struct HandlerError {
    reason: String,
    rate_limited: bool,
    retry_after: Option<Duration>,
}

impl HandlerError {
    pub fn new(reason: impl Into<String>) -> Self {
        Self { reason: reason.into(), rate_limited: false, retry_after: None }
    }

    /// The site limited the app: the job runs again after `retry_after` (the
    /// site's `Retry-After`; without one, later the longer the job has
    /// waited), the run not counted as a failed attempt.
    pub fn rate_limited(reason: impl Into<String>, retry_after: Option<Duration>) -> Self {
        Self { reason: reason.into(), rate_limited: true, retry_after }
    }

    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// Whether a rate limit is why it failed.
    pub fn is_rate_limited(&self) -> bool {
        self.rate_limited
    }

    /// The site's `Retry-After`, when it gave one.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
}

impl std::fmt::Display for HandlerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
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

    /// The events handlers were added for that `declared` (the descriptor's
    /// webhooks) does not name: such a handler would never run.
    pub(crate) fn undeclared(&self, declared: &[(String, String)]) -> Vec<&str> {
        let known = |event: &str| event == "*" || declared.iter().any(|(d, _)| d == event);
        self.handlers.iter().map(|(event, _)| event.as_str()).filter(|event| !known(event)).collect()
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
    installation: &'a Tenant,
    tools: &'a HandlerTools,
}

impl<'a> HandlerContext<'a> {
    pub(crate) fn new(event: &'a WebhookEvent, installation: &'a Tenant, tools: &'a HandlerTools) -> Self {
        Self { event, installation, tools }
    }

    /// GETs `path` with `query` (e.g. `/rest/api/3/user`, `accountId=…`) from
    /// the tenant's site as the app: a Connect JWT under the tenant's shared
    /// secret, or, for a tenant born on Forge, its newest system token.
    pub async fn get_as_app(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, HandlerError> {
        self.send_as_app(Method::GET, path, query, None).await
    }

    /// Sends `method` to `path` (relative to the site, as Connect writes it:
    /// `/rest/api/3/issue/ACME-1/properties/seen`) as the app, in whichever
    /// world the tenant lives. An empty answer (a 204) is `null`; when
    /// Atlassian limits the call, the error says so (return it: the job is put
    /// back at `Retry-After`, not counted as an attempt).
    pub async fn send_as_app(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Result<Value, HandlerError> {
        self.send(Acting::App, SiteCall { method, path, query, body }).await
    }

    /// As [`send_as_app`](Self::send_as_app), as the user `account_id`:
    /// Connect's act-as-user grant (the descriptor asks for `ACT_AS_USER`),
    /// or Forge's offline impersonation (a scope with `allowImpersonation`).
    pub async fn send_as_user(
        &self,
        account_id: &AccountId,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Result<Value, HandlerError> {
        self.send(Acting::User(account_id), SiteCall { method, path, query, body }).await
    }

    async fn send(&self, acting: Acting<'_>, call: SiteCall<'_>) -> Result<Value, HandlerError> {
        let answer = self.tools.site().deferring().send(self.installation, acting, call).await;
        answer.map_err(|e| match e.rate_limit() {
            Some(limit) => HandlerError::rate_limited(e.to_string(), limit.retry_after),
            None => HandlerError::new(e.to_string()),
        })
    }

    /// The vendor's tables, bound to this delivery's tenant ([`TenantDb`]).
    pub fn tenant_db(&self) -> TenantDb<'_> {
        TenantDb::new(&self.tools.db, &self.installation.tenant_id)
    }

    // demo:begin
    /// The app's own store, for the app's own handlers.
    pub(crate) fn db(&self) -> &Database {
        &self.tools.db
    }
    // demo:end
}
