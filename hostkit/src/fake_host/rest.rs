//! The site's REST API the app calls (permission check, user, issue
//! properties), which checks the app's JWT as the real site would and logs
//! every call for tests to read.

use std::collections::HashMap;

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use super::{FakeHost, Site, issue_properties, oauth, platform};
use crate::qsh::qsh;

impl FakeHost {
    pub fn rest_calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }
}

/// The host REST API the app calls: `/{site}[/wiki]/rest/...`.
pub(super) async fn rest(
    State(host): State<FakeHost>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let Some((site_name, _)) = path.trim_start_matches('/').split_once('/') else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(site) = host.site(site_name) else { return StatusCode::NOT_FOUND.into_response() };
    host.lock().calls.push(format!("{method} {path}"));
    let site_prefix = url::Url::parse(&site.tenant.base_url).map(|u| u.path().to_string()).unwrap_or_default();
    let relative = path.strip_prefix(site_prefix.trim_end_matches('/')).unwrap_or(&path).to_string();
    let bearer =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("Bearer "));
    // Atlassian's limits count the app's calls as the app and as its users alike.
    if let Some(refused) = platform::limited(&host, site_name, method.as_str()) {
        return refused;
    }
    if bearer {
        return oauth::bearer_call(&host, site_name, method.as_str(), &relative, &headers, &body);
    }
    if let Err(why) = verify_app_jwt(&host, &site, &method, &relative, uri.query().unwrap_or_default(), &headers) {
        return (StatusCode::UNAUTHORIZED, why).into_response();
    }
    if let Some(answer) = issue_properties::answer(&host, site_name, method.as_str(), &relative, &body) {
        return answer;
    }
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).into_owned().collect();
    match (method.as_str(), relative.as_str()) {
        ("POST", "/rest/atlassian-connect/latest/report-accounts") => {
            let report: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            host.lock().accounts.answer(site_name, &report)
        }
        ("POST", "/rest/api/3/permissions/check") => {
            let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let account = request["accountId"].as_str().unwrap_or_default();
            let admin = site.users.get(account).is_some_and(|u| u.admin);
            let granted: Vec<&str> = if admin { vec!["ADMINISTER"] } else { vec![] };
            Json(json!({ "globalPermissions": granted, "projectPermissions": [] })).into_response()
        }
        ("GET", "/rest/api/3/user") | ("GET", "/rest/api/user") => {
            let account = query.get("accountId").cloned().unwrap_or_default();
            let Some(user) = site.users.get(&account) else { return StatusCode::NOT_FOUND.into_response() };
            let operations = if user.admin {
                json!([
                    { "operation": "administer", "targetType": "application" },
                    { "operation": "use", "targetType": "application" }
                ])
            } else {
                json!([{ "operation": "use", "targetType": "application" }])
            };
            Json(json!({ "accountId": account, "displayName": user.display_name, "operations": operations }))
                .into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The real site checks the app's JWT: HS256 under the shared secret,
/// `iss` = the app key, and the qsh of this very request.
fn verify_app_jwt(
    host: &FakeHost,
    site: &Site,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
) -> Result<(), &'static str> {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or("missing JWT")?;
    let token = auth.strip_prefix("JWT ").ok_or("not a JWT")?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "iss"]);
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<Value>(
        token,
        &DecodingKey::from_secret(site.tenant.shared_secret.as_bytes()),
        &validation,
    )
    .map_err(|_| "bad signature")?
    .claims;
    if claims["iss"] != host.app_key.as_str() {
        return Err("wrong issuer");
    }
    let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    if claims["qsh"] != qsh(method.as_str(), path, &pairs).as_str() {
        return Err("wrong qsh");
    }
    Ok(())
}
