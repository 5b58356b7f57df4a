//! What an app vendor builds on: the application and its configuration, the
//! handlers it plugs in for the host's events, the verified user a handler
//! or server function is given, and the context that calls the tenant's site
//! as the app or as a user, with any method. Everything else in this crate
//! is the house's own business.
//!
//! ```no_run
//! use server::vendor::{Application, Config, HandlerContext, HandlerFuture, Method, WebhookHandler, Webhooks};
//!
//! struct IssueCreated;
//!
//! impl WebhookHandler for IssueCreated {
//!     fn handle<'a>(&'a self, cx: &'a HandlerContext<'a>) -> HandlerFuture<'a> {
//!         Box::pin(async move {
//!             let me = cx.get_as_app("/rest/api/3/myself", &[]).await?;
//!             println!("{} on {}: the app is {}", cx.event.event, cx.event.base_url, me["accountId"]);
//!             let key = cx.event.payload["issue"]["key"].as_str().unwrap_or_default();
//!             let path = format!("/rest/api/3/issue/{key}/properties/seen");
//!             cx.send_as_app(Method::PUT, &path, &[], Some(serde_json::json!(true))).await?;
//!             Ok(())
//!         })
//!     }
//! }
//!
//! # async fn run() -> server::vendor::Result<()> {
//! let config = Config::from_env()?;
//! let webhooks = Webhooks::new().on("jira:issue_created", IssueCreated);
//! let app = Application::builder(config).webhooks(webhooks).build().await?;
//! app.run_until(std::future::pending()).await
//! # }
//! ```

pub use app::api::backend::{Caller, CallerVia};
pub use ids::{AccountId, BaseUrl, ClientKey, CloudId, InstallationId, TenantId, UnixTime};
/// The HTTP method of a call to the tenant's site (`HandlerContext::send_as_app`).
pub use reqwest::Method;

pub use crate::{
    clock::Clock,
    config::Config,
    error::{Error, Result},
    lifecycle_hooks::{HookFuture, LifecycleHook, LifecycleHooks, TenantChange, TenantEvent},
    startup::{Application, ApplicationBuilder},
    store::{
        TenantDb, VENDOR_VERSIONS_FROM, VendorMigrations,
        personal_data::{Erase, PersonalData},
    },
    webhooks::{HandlerContext, HandlerError, HandlerFuture, WebhookEvent, WebhookHandler, Webhooks},
};
