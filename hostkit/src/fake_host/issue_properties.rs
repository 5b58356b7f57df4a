//! Jira's issue properties (`/rest/api/3/issue/{key}/properties/{name}`),
//! the app's own data on an issue, as the site keeps them: PUT answers 200
//! with an empty body, DELETE 204, GET the property or 404.

use axum::{
    body::Bytes,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::FakeHost;

impl FakeHost {
    /// The issue property `name` of `issue` on `site`, as the app left it.
    pub fn issue_property(&self, site: &str, issue: &str, name: &str) -> Option<Value> {
        self.lock().issue_properties.get(&property_key(site, issue, name)).cloned()
    }

    /// Sets an issue property, as a user of the site might.
    pub fn set_issue_property(&self, site: &str, issue: &str, name: &str, value: Value) {
        self.lock().issue_properties.insert(property_key(site, issue, name), value);
    }
}

/// The answer to an issue-property call, if `path` is one.
pub(super) fn answer(host: &FakeHost, site: &str, method: &str, path: &str, body: &Bytes) -> Option<Response> {
    let rest = path.strip_prefix("/rest/api/3/issue/")?;
    let (issue, name) = rest.split_once("/properties/")?;
    let key = property_key(site, issue, name);
    let mut inner = host.lock();
    Some(match method {
        "PUT" => match serde_json::from_slice::<Value>(body) {
            Ok(value) => {
                inner.issue_properties.insert(key, value);
                StatusCode::OK.into_response()
            }
            Err(_) => (StatusCode::BAD_REQUEST, "the property value must be JSON").into_response(),
        },
        "DELETE" => match inner.issue_properties.remove(&key) {
            Some(_) => StatusCode::NO_CONTENT.into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        },
        "GET" => match inner.issue_properties.get(&key) {
            Some(value) => axum::Json(json!({ "key": name, "value": value })).into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        },
        _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
    })
}

fn property_key(site: &str, issue: &str, name: &str) -> String {
    format!("{site}/{issue}/{name}")
}
