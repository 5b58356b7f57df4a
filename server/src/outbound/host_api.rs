//! What the app asks a Connect tenant's site: is this user a site
//! administrator (the checks atlassian-connect-express makes); and how to
//! read a display name from a user record.

use ids::{AccountId, UnixTime};
use reqwest::Method;
use serde_json::{Value, json};

use super::host_client::{HostClient, HostError, HostRequest, Patience};
use crate::{secrets::SharedSecret, store::Tenant};

/// Jira: `POST /rest/api/3/permissions/check` for the global ADMINISTER
/// permission. Confluence: `GET /rest/api/user?expand=operations`, operation
/// `administer` on target `application`.
pub(crate) async fn is_site_admin(
    client: &HostClient,
    installation: &Tenant,
    secret: &SharedSecret,
    account_id: &AccountId,
    now: UnixTime,
) -> Result<bool, HostError> {
    if installation.is_confluence() {
        let query = [("accountId", account_id.as_str()), ("expand", "operations")];
        let request = HostRequest {
            method: Method::GET,
            path: "/rest/api/user",
            query: &query,
            body: None,
            patience: Patience::Retry,
        };
        let user = client.send(installation, secret, request, now).await?;
        Ok(is_confluence_admin(&user))
    } else {
        let request = HostRequest {
            method: Method::POST,
            path: JIRA_PERMISSION_CHECK,
            query: &[],
            body: Some(admin_check(account_id)),
            patience: Patience::Retry,
        };
        let answer = client.send(installation, secret, request, now).await?;
        Ok(is_jira_admin(&answer))
    }
}

/// Jira's permission check, and the body that asks it about `account_id`.
pub(crate) const JIRA_PERMISSION_CHECK: &str = "/rest/api/3/permissions/check";

pub(crate) fn admin_check(account_id: &AccountId) -> Value {
    json!({ "accountId": account_id, "globalPermissions": ["ADMINISTER"] })
}

/// Jira's answer grants the global ADMINISTER permission.
pub(crate) fn is_jira_admin(answer: &Value) -> bool {
    answer["globalPermissions"].as_array().is_some_and(|granted| granted.iter().any(|p| p == "ADMINISTER"))
}

/// A Confluence user (`expand=operations`) may administer the application.
pub(crate) fn is_confluence_admin(user: &Value) -> bool {
    has_operation(user, "administer", "application")
}

/// The display name in a user record (Confluence may only give a public name).
pub(crate) fn display_name_of(user: &Value) -> Option<String> {
    user["displayName"].as_str().or(user["publicName"].as_str()).map(str::to_string)
}

fn has_operation(user: &Value, operation: &str, target: &str) -> bool {
    user["operations"]
        .as_array()
        .is_some_and(|ops| ops.iter().any(|op| op["operation"] == operation && op["targetType"] == target))
}
