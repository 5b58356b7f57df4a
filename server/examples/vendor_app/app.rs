//! What a vendor writes: a webhook handler, a lifecycle hook and the
//! migrations of its own table. `main.rs` starts the app with them; the
//! tests (`server/tests/it/vendor_example.rs`) run the same parts against
//! the fake Atlassian.

use server::vendor::{
    HandlerContext, HandlerError, HandlerFuture, HookFuture, LifecycleHook, LifecycleHooks, Method, TenantChange,
    TenantEvent, VendorMigrations, WebhookHandler, Webhooks,
};

/// On every new issue: an issue property as the app, and a row in the
/// vendor's own table (bound to the delivery's tenant).
pub struct Tagger;

impl WebhookHandler for Tagger {
    fn handle<'a>(&'a self, cx: &'a HandlerContext<'a>) -> HandlerFuture<'a> {
        Box::pin(async move {
            let key = cx.event.payload["issue"]["key"].as_str().ok_or_else(|| HandlerError::new("no issue key"))?;
            let property = format!("/rest/api/3/issue/{key}/properties/tagged");
            cx.send_as_app(Method::PUT, &property, &[], Some(serde_json::json!({ "by": "vendor-app" }))).await?;
            let insert = "INSERT INTO vendor_tags (tenant_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING";
            cx.tenant_db().execute(insert, &[key]).await.map_err(|e| HandlerError::new(e.to_string()))?;
            Ok(())
        })
    }
}

/// Says goodbye when a tenant leaves (its rows in `vendor_tags` go with the purge).
pub struct Farewell;

impl LifecycleHook for Farewell {
    fn on<'a>(&'a self, event: &'a TenantEvent) -> HookFuture<'a> {
        Box::pin(async move {
            if event.change == TenantChange::Uninstalled {
                tracing::info!(tenant_id = %event.tenant_id, site = %event.base_url, "a tenant left");
            }
            Ok(())
        })
    }
}

pub fn webhooks() -> Webhooks {
    Webhooks::new().on("jira:issue_created", Tagger)
}

pub fn hooks() -> LifecycleHooks {
    LifecycleHooks::new().with(Farewell)
}

/// `vendor_tags`, numbered from 10000 (clear of the house's migrations).
pub fn migrations() -> VendorMigrations {
    VendorMigrations {
        sqlite: sqlx::migrate!("examples/vendor_app/migrations/sqlite"),
        postgres: sqlx::migrate!("examples/vendor_app/migrations/postgres"),
    }
}
