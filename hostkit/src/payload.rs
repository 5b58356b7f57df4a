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

/// A Jira issue event body (`jira:issue_created`, `jira:issue_updated`,
/// `comment_created`), as the webhook sends it.
pub fn issue_event(event: &str, key: &str, summary: &str, account_id: &str) -> Value {
    json!({
        "timestamp": crate::now() * 1000,
        "webhookEvent": event,
        "user": { "accountId": account_id },
        "issue": { "id": "10001", "key": key, "fields": { "summary": summary } },
    })
}

/// A Confluence page event body (`page_created`, `page_updated`).
pub fn page_event(event: &str, page_id: i64, title: &str, account_id: &str) -> Value {
    json!({
        "timestamp": crate::now() * 1000,
        "event": event,
        "userAccountId": account_id,
        "page": { "id": page_id, "title": title, "spaceKey": "DOCS" },
    })
}
