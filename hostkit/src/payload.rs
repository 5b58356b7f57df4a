//! Lifecycle callback bodies as Jira and Confluence send them.

use serde_json::{Value, json};

use crate::tenant::Tenant;

/// The body of `event` for `tenant` of the app `app_key`.
pub(crate) fn lifecycle(event: &str, tenant: &Tenant, app_key: &str) -> Value {
    let mut body = json!({
        "key": app_key,
        "clientKey": tenant.client_key,
        "baseUrl": tenant.base_url,
        "displayUrl": tenant.base_url,
        "productType": tenant.product_type,
        "description": format!("Atlassian {} at {}", tenant.product_type, tenant.base_url),
        "eventType": event,
        "serverVersion": "100330",
        "pluginsVersion": "1001.0.0",
        "oauthClientId": format!("oauth-{}", &tenant.client_key[..8.min(tenant.client_key.len())]),
    });
    if event == "installed" {
        body["sharedSecret"] = Value::String(tenant.shared_secret.clone());
    }
    if let Some(id) = &tenant.installation_id {
        body["installationId"] = Value::String(id.clone());
    }
    body
}
