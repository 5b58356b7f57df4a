//! `app::api::backend::Services`: what any server function may ask for its
//! verified caller (its site's facts, a call to its site as the app or as
//! the caller), implemented once, so a vendor's server function needs no
//! backend trait of its own.

use app::api::{
    backend::{ApiFuture, Caller, Services, SiteFacts, SiteRequest},
    error::ApiError,
};
use serde_json::Value;

use super::{AppBackend, identity::forge_refusal, rate_limited, unavailable, verified_installation};
use crate::{
    error::Error,
    outbound::{
        forge_api::ForgeApiError,
        host_client::HostError,
        site_client::{Acting, SiteCall, SiteError},
    },
    store::TenantDb,
    tenant::Product,
};

impl Services for AppBackend {
    fn site_of(&self, caller: &Caller) -> Result<SiteFacts, ApiError> {
        let tenant = verified_installation(caller)?;
        let product = tenant.site.product.map(Product::as_str);
        Ok(SiteFacts { product, base_url: tenant.site.base_url.to_string() })
    }

    fn call_site<'a>(&'a self, caller: &'a Caller, call: SiteRequest<'a>) -> ApiFuture<'a, Value> {
        Box::pin(async move {
            let tenant = verified_installation(caller)?;
            let acting = match (call.as_caller, caller.account_id.as_ref()) {
                (false, _) => Acting::App,
                (true, Some(account_id)) => Acting::User(account_id),
                (true, None) => return Err(ApiError::Forbidden),
            };
            let request = SiteCall { method: call.method, path: call.path, query: call.query, body: call.body };
            let sent = self.state.site().send(&tenant, acting, request).await;
            sent.map_err(|e| site_failure(&tenant, e))
        })
    }

    fn execute<'a>(&'a self, caller: &'a Caller, sql: &'a str, args: &'a [&'a str]) -> ApiFuture<'a, u64> {
        Box::pin(async move {
            let tenant = verified_installation(caller)?;
            TenantDb::new(&self.state.db, &tenant.tenant_id).execute(sql, args).await.map_err(tenant_sql_error)
        })
    }

    fn column<'a>(&'a self, caller: &'a Caller, sql: &'a str, args: &'a [&'a str]) -> ApiFuture<'a, Vec<String>> {
        Box::pin(async move {
            let tenant = verified_installation(caller)?;
            TenantDb::new(&self.state.db, &tenant.tenant_id).column(sql, args).await.map_err(tenant_sql_error)
        })
    }
}

/// What the function hears of a failed call: a rate limit's 429, a 4xx as
/// the site's refusal, and anything else logged as "unavailable".
fn site_failure(tenant: &crate::store::Tenant, e: SiteError) -> ApiError {
    if let Some(limit) = e.rate_limit() {
        return rate_limited(limit);
    }
    match e {
        SiteError::BadPath(why) => ApiError::Invalid(why),
        SiteError::Connect(HostError::Status(status)) | SiteError::Forge(ForgeApiError::Status(status))
            if status < 500 =>
        {
            refused(status)
        }
        SiteError::Forge(e) => forge_refusal(tenant, &e),
        other => {
            tracing::warn!(tenant_id = %tenant.tenant_id, error = %other, "a call to the site failed");
            ApiError::Unavailable
        }
    }
}

/// A refused statement says why (no `$1`); any other failure is logged.
fn tenant_sql_error(error: Error) -> ApiError {
    match error {
        Error::BadRequest(why) => ApiError::Invalid(why),
        other => unavailable(other),
    }
}

/// What the function hears of a site's 4xx: 404 is "not there", and the
/// rest say the site refused (the status, not the site's own words).
fn refused(status: u16) -> ApiError {
    match status {
        404 => ApiError::NotFound,
        _ => ApiError::SiteRefused(format!("The site refused the call ({status}).")),
    }
}
