//! The server side of the server functions (compiled with `ssr` only): the
//! verified caller the server's auth middleware puts in the request, the
//! page session it renders into the HTML, and `serve`, which hands a
//! server function's body its resource's backend: each resource's file
//! declares a trait the server implements with its database and host
//! client. The app crate cannot see the server crate, so it asks through
//! those traits.

use std::{future::Future, pin::Pin};

use ids::{AccountId, TenantId};
use leptos::prelude::*;

use super::error::ApiError;

/// How the caller proved who they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallerVia {
    /// An iframe page JWT (server-side rendering of a module URL).
    Page,
    /// The app's own session token.
    Session,
    /// An `AP.context.getToken()` JWT.
    Context,
    /// A Forge Invocation Token (`requestRemote`, `invokeRemote`).
    Forge,
}

/// The verified tenant and user of a request. Tenant identity comes only
/// from here, never from server-function arguments.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The tenant's own id (not its clientKey: a tenant born on Forge has none).
    pub tenant_id: TenantId,
    pub account_id: Option<AccountId>,
    pub install_generation: i64,
    pub via: CallerVia,
    /// The manifest's key of the Forge module whose FIT proved the call
    /// (`notes-page`, `notes-admin`); `None` for Connect's tokens.
    pub forge_module: Option<&'static str>,
    /// The tenant's licence for the app, as the proof or the tenant's record says.
    pub license: License,
}

impl Caller {
    /// The tenant's licence: a gate of yours is `caller.license().allows()`
    /// (the house already refuses every server function of an
    /// [`License::Inactive`] tenant). `is_active()` is true only when
    /// Atlassian said so: never with licensing off, nor in a Forge
    /// development or staging environment.
    pub fn license(&self) -> License {
        self.license
    }
}

/// What the app knows of the tenant's licence (`APP_LICENSING`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum License {
    /// Licensing is off, or Atlassian said nothing (a Forge development or
    /// staging environment, a Connect page without `lic`): allowed.
    Unchecked,
    /// Connect's `lic=active`, a FIT's `app.license.active: true`.
    Active,
    /// Connect's `lic=none`, a FIT's `app.license.active: false`: no active
    /// licence, so no page, server function or event is served.
    Inactive,
}

impl License {
    /// Whether the tenant may use the app.
    pub fn allows(self) -> bool {
        self != Self::Inactive
    }

    /// Whether Atlassian said the licence is active.
    pub fn is_active(self) -> bool {
        self == Self::Active
    }
}

/// What the page renders into its `<head>` after the page JWT verified.
#[derive(Clone)]
pub struct PageSession {
    pub token: String,
    pub expires_in: i64,
    pub all_js_url: String,
}

pub type ApiFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ApiError>> + Send + 'a>>;

/// The page session of the current request, if its page JWT verified.
pub(crate) fn page_session() -> Option<PageSession> {
    use_context::<http::request::Parts>().and_then(|parts| parts.extensions.get::<PageSession>().cloned())
}

/// Runs a server function body with the verified caller and its resource's
/// backend (`B`, an `Arc` of that resource's trait, which the server puts in
/// the request's context); an error also sets the response status.
pub(crate) async fn serve<B, T, F>(body: F) -> Result<T, ApiError>
where
    B: Clone + Send + Sync + 'static,
    F: for<'a> FnOnce(&'a B, &'a Caller) -> ApiFuture<'a, T>,
{
    let result = match (caller(), use_context::<B>()) {
        (Some(caller), _) if !caller.license.allows() => Err(ApiError::Unlicensed),
        (Some(caller), Some(backend)) => body(&backend, &caller).await,
        (None, _) => Err(ApiError::Unauthorized),
        (_, None) => Err(ApiError::Unavailable),
    };
    answered(result)
}

/// [`serve`] for a body that answers at once from what the request's proof
/// verified: a page's server-side render reads it without a task.
pub(crate) fn serve_now<B, T>(body: impl FnOnce(&B, &Caller) -> Result<T, ApiError>) -> Result<T, ApiError>
where
    B: Clone + Send + Sync + 'static,
{
    let result = match (caller(), use_context::<B>()) {
        (Some(caller), _) if !caller.license.allows() => Err(ApiError::Unlicensed),
        (Some(caller), Some(backend)) => body(&backend, &caller),
        (None, _) => Err(ApiError::Unauthorized),
        (_, None) => Err(ApiError::Unavailable),
    };
    answered(result)
}

/// The answer, with an error's status set on the response.
fn answered<T>(result: Result<T, ApiError>) -> Result<T, ApiError> {
    if let Err(e) = &result
        && let Some(response) = use_context::<leptos_axum::ResponseOptions>()
    {
        response.set_status(http::StatusCode::from_u16(e.status()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR));
        if let ApiError::RateLimited(secs) = e {
            response.insert_header(http::header::RETRY_AFTER, http::HeaderValue::from(*secs));
        }
    }
    result
}

/// Whether the page being rendered is for a tenant without an active
/// licence (the page then shows the licence screen instead).
pub(crate) fn rendering_unlicensed() -> bool {
    caller().is_some_and(|caller| !caller.license.allows())
}

fn caller() -> Option<Caller> {
    use_context::<http::request::Parts>().and_then(|parts| parts.extensions.get::<Caller>().cloned())
}

/// What any server function may ask of the server for its verified caller,
/// implemented once by the server (`server/src/api/services.rs`): a server
/// function of yours needs no trait of its own (see [`serve_cx`]).
pub trait Services: Send + Sync {
    /// The caller's site: its product (`jira`, `confluence`) and base URL.
    fn site_of(&self, caller: &Caller) -> Result<SiteFacts, ApiError>;
    /// One call to the caller's site, as the app or as the caller.
    fn call_site<'a>(&'a self, caller: &'a Caller, call: SiteRequest<'a>) -> ApiFuture<'a, serde_json::Value>;
    /// A statement on the vendor's tables for the caller's tenant (see
    /// [`ServerCx::execute`]); how many rows it changed.
    fn execute<'a>(&'a self, caller: &'a Caller, sql: &'a str, args: &'a [&'a str]) -> ApiFuture<'a, u64>;
    /// The first column of each row, as text (see [`ServerCx::column`]).
    fn column<'a>(&'a self, caller: &'a Caller, sql: &'a str, args: &'a [&'a str]) -> ApiFuture<'a, Vec<String>>;
}

/// The server's implementation, as the request's context holds it.
pub type SharedServices = std::sync::Arc<dyn Services>;

/// The caller's site, as its verified tenant records it.
#[derive(Clone, Debug)]
pub struct SiteFacts {
    pub product: Option<&'static str>,
    pub base_url: String,
}

/// A REST call relative to the site, as Connect writes it (`/rest/api/3/myself`).
pub struct SiteRequest<'a> {
    /// As the caller (Connect's act-as-user grant, Forge's impersonation), or as the app.
    pub as_caller: bool,
    pub method: http::Method,
    pub path: &'a str,
    pub query: &'a [(&'a str, &'a str)],
    pub body: Option<serde_json::Value>,
}

/// A server function's view of the server: its verified caller, and the
/// caller's site to call as the app or as the caller.
pub struct ServerCx<'a> {
    pub caller: &'a Caller,
    services: &'a dyn Services,
}

impl ServerCx<'_> {
    pub fn site(&self) -> Result<SiteFacts, ApiError> {
        self.services.site_of(self.caller)
    }

    /// `GET path?query` as the app: a Connect JWT, or Forge's system token.
    pub async fn get_as_app(&self, path: &str, query: &[(&str, &str)]) -> Result<serde_json::Value, ApiError> {
        let call = SiteRequest { as_caller: false, method: http::Method::GET, path, query, body: None };
        self.services.call_site(self.caller, call).await
    }

    /// Any method as the caller (the descriptor and manifest must grant it).
    pub async fn send_as_caller(
        &self,
        method: http::Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, ApiError> {
        let call = SiteRequest { as_caller: true, method, path, query, body };
        self.services.call_site(self.caller, call).await
    }
}

/// Your tables (`app/src/vendor/migrations/`), bound to the caller's
/// tenant: `$1` is always its id, and a statement without `$1` is refused;
/// `$2`, `$3`, … are `args`, as text. The same SQL runs on SQLite and
/// PostgreSQL.
impl ServerCx<'_> {
    /// Runs `sql`; returns how many rows it changed.
    pub async fn execute(&self, sql: &str, args: &[&str]) -> Result<u64, ApiError> {
        self.services.execute(self.caller, sql, args).await
    }

    /// The first column of each row `sql` gives (a `SELECT`, or `… RETURNING`), as text.
    pub async fn column(&self, sql: &str, args: &[&str]) -> Result<Vec<String>, ApiError> {
        self.services.column(self.caller, sql, args).await
    }
}

/// Runs a server function body with its [`ServerCx`]: the one way in for a
/// server function of yours, with no trait and no backend to write.
pub async fn serve_cx<T, F>(body: F) -> Result<T, ApiError>
where
    F: for<'a> FnOnce(ServerCx<'a>) -> ApiFuture<'a, T>,
{
    serve(|services: &SharedServices, caller| body(ServerCx { caller, services: services.as_ref() })).await
}
