//! The two questions the app asks a tenant's site: is this user a site
//! administrator, and what is their display name. The checks are the ones
//! atlassian-connect-express makes.

use reqwest::Method;
use serde_json::{Value, json};

use super::host_client::{HostClient, HostError, HostRequest};
use crate::{secrets::SharedSecret, store::Installation};

/// Jira: `POST /rest/api/3/permissions/check` for the global ADMINISTER
/// permission. Confluence: `GET /rest/api/user?expand=operations`, operation
/// `administer` on target `application`.
pub(crate) async fn is_site_admin(
    client: &HostClient,
    installation: &Installation,
    secret: &SharedSecret,
    account_id: &str,
    now: i64,
) -> Result<bool, HostError> {
    if is_confluence(installation) {
        let query = [("accountId", account_id), ("expand", "operations")];
        let request = HostRequest { method: Method::GET, path: "/rest/api/user", query: &query, body: None };
        let user = client.send(installation, secret, request, now).await?;
        Ok(has_operation(&user, "administer", "application"))
    } else {
        let body = json!({ "accountId": account_id, "globalPermissions": ["ADMINISTER"] });
        let request =
            HostRequest { method: Method::POST, path: "/rest/api/3/permissions/check", query: &[], body: Some(body) };
        let answer = client.send(installation, secret, request, now).await?;
        Ok(answer["globalPermissions"].as_array().is_some_and(|granted| granted.iter().any(|p| p == "ADMINISTER")))
    }
}

pub(crate) async fn display_name(
    client: &HostClient,
    installation: &Installation,
    secret: &SharedSecret,
    account_id: &str,
    now: i64,
) -> Result<Option<String>, HostError> {
    let path = if is_confluence(installation) { "/rest/api/user" } else { "/rest/api/3/user" };
    let query = [("accountId", account_id)];
    let user = client
        .send(installation, secret, HostRequest { method: Method::GET, path, query: &query, body: None }, now)
        .await?;
    Ok(user["displayName"].as_str().or(user["publicName"].as_str()).map(str::to_string))
}

fn is_confluence(installation: &Installation) -> bool {
    installation.product_type.as_deref().is_some_and(|p| p.eq_ignore_ascii_case("confluence"))
}

fn has_operation(user: &Value, operation: &str, target: &str) -> bool {
    user["operations"]
        .as_array()
        .is_some_and(|ops| ops.iter().any(|op| op["operation"] == operation && op["targetType"] == target))
}
