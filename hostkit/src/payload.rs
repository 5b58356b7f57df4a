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

/// A Forge Jira issue event (`avi:jira:created:issue`, `avi:jira:updated:issue`,
/// `avi:jira:commented:issue`), as Forge's event reference shows it.
pub fn forge_issue_event(event_type: &str, key: &str, summary: &str, account_id: &str) -> Value {
    let mut event = json!({
        "eventType": event_type,
        "selfGenerated": false,
        "atlassianId": account_id,
        "timestamp": (crate::now() * 1000).to_string(),
        "issue": { "id": crate::random_hex(3), "key": key, "fields": { "summary": summary } },
    });
    if event_type == "avi:jira:commented:issue" {
        let created = "2026-12-07T08:00:00.000+0000";
        event["comment"] = json!({
            "id": crate::random_hex(3), "author": { "accountId": account_id },
            "created": created, "updated": created,
        });
    }
    event
}

/// Forge's `avi:jira:commented:issue` for an edit of a comment: the same
/// event as a new comment's, only the comment's `updated` moved on.
pub fn forge_comment_edit(key: &str, account_id: &str) -> Value {
    let mut event = forge_issue_event("avi:jira:commented:issue", key, "A commented issue", account_id);
    event["comment"]["updated"] = json!("2026-12-07T09:30:00.000+0000");
    event
}

/// A Forge Confluence page event (`avi:confluence:created:page`, `avi:confluence:updated:page`).
pub fn forge_page_event(event_type: &str, page_id: i64, title: &str, account_id: &str) -> Value {
    json!({
        "eventType": event_type,
        "selfGenerated": false,
        "atlassianId": account_id,
        "eventCreatedDate": crate::now().to_string(),
        "suppressNotifications": false,
        "content": {
            "id": page_id.to_string(), "type": "page", "status": "current", "title": title,
            "space": { "key": "DOCS" }, "version": { "number": 1 },
        },
    })
}
