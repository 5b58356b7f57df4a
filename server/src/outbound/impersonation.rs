//! Forge's offline user impersonation: the app's system token buys, from
//! Atlassian's GraphQL gateway (`FORGE_GRAPHQL_URL`), a token that acts as
//! one user of the installation's site, for the scopes the manifest marks
//! `allowImpersonation: true`. What a user does through the app (a note
//! shared as a comment) and asking whether they administer the site use it,
//! never a token a page sent. The request and the answer, without I/O.

use ids::AccountId;
use serde_json::{Value, json};

use crate::store::Tenant;

/// The gateway's mutation, as Forge's "calling product APIs" guide gives it.
const MUTATION: &str = "mutation forge_remote_offlineUserAuthToken($input: OfflineUserAuthTokenInput!) { \
                        offlineUserAuthToken(input: $input) { success errors { message } authToken { token ttl } } }";

/// Longest a token is kept, whatever lifetime the gateway names.
const MAX_TTL_SECS: i64 = 24 * 3600;

/// The site's context ARI (`ari:cloud:jira::site/{cloudId}`), which the
/// gateway takes to name the installation; None before the cloudId is known.
pub(crate) fn context_ari(installation: &Tenant) -> Option<String> {
    let product = if installation.is_confluence() { "confluence" } else { "jira" };
    installation.site.cloud_id.as_deref().map(|cloud_id| format!("ari:cloud:{product}::site/{cloud_id}"))
}

/// The GraphQL request for a token that acts as `account_id`.
pub(crate) fn request(context_ari: &str, account_id: &AccountId) -> Value {
    json!({
        "query": MUTATION,
        "variables": { "input": { "contextIds": [context_ari], "userId": account_id.as_str() } },
    })
}

/// The token and its lifetime in seconds, or the gateway's reason for none.
pub(crate) fn answer(body: &Value) -> Result<(String, i64), String> {
    let result = &body["data"]["offlineUserAuthToken"];
    let token = result["authToken"]["token"].as_str().filter(|t| !t.is_empty());
    match (result["success"].as_bool(), token) {
        (Some(true), Some(token)) => {
            let ttl = result["authToken"]["ttl"].as_i64().unwrap_or(0).clamp(0, MAX_TTL_SECS);
            Ok((token.to_string(), ttl))
        }
        _ => {
            let errors = result["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(body["errors"].as_array().into_iter().flatten());
            let reasons: Vec<&str> = errors.filter_map(|e| e["message"].as_str()).collect();
            Err(if reasons.is_empty() { "no token in the answer".into() } else { reasons.join("; ") })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_names_the_site_and_the_user() {
        let body = request("ari:cloud:jira::site/c1", &AccountId::new("u-1"));
        assert!(body["query"].as_str().unwrap().contains("offlineUserAuthToken(input: $input)"));
        assert_eq!(body["variables"]["input"], json!({ "contextIds": ["ari:cloud:jira::site/c1"], "userId": "u-1" }));
    }

    #[test]
    fn an_answer_gives_a_token_or_the_gateways_reason() {
        let ok = json!({ "data": { "offlineUserAuthToken": {
            "success": true, "errors": [], "authToken": { "token": "t", "ttl": 900 } } } });
        assert_eq!(answer(&ok), Ok(("t".into(), 900)));
        let long = json!({ "data": { "offlineUserAuthToken": {
            "success": true, "authToken": { "token": "t", "ttl": 10_000_000 } } } });
        assert_eq!(answer(&long), Ok(("t".into(), MAX_TTL_SECS)), "bounded");
        let refused = json!({ "data": { "offlineUserAuthToken": {
            "success": false, "errors": [{ "message": "user has no access" }], "authToken": null } } });
        assert_eq!(answer(&refused), Err("user has no access".into()));
        let graphql_error = json!({ "errors": [{ "message": "rate limited" }] });
        assert_eq!(answer(&graphql_error), Err("rate limited".into()));
        assert!(answer(&json!({})).is_err());
    }
}
