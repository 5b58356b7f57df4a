//! Jira's issue properties (`/rest/api/3/issue/{key}/properties/{name}`),
//! the app's own data on an issue, as the site keeps them: PUT answers 200
//! with an empty body, DELETE 204, GET the property or 404. And Jira's rate
//! limit: a site told to refuse the next calls answers them 429 with
//! `Retry-After`, as Atlassian does under load.

use axum::{
    body::Bytes,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::FakeHost;

/// The seconds a rate-limited answer tells the app to wait.
const RETRY_AFTER_SECS: &str = "1";

impl FakeHost {
    /// The issue property `name` of `issue` on `site`, as the app left it.
    pub fn issue_property(&self, site: &str, issue: &str, name: &str) -> Option<Value> {
        self.lock().issue_properties.get(&property_key(site, issue, name)).cloned()
    }

    /// Sets an issue property, as a user of the site might.
    pub fn set_issue_property(&self, site: &str, issue: &str, name: &str, value: Value) {
        self.lock().issue_properties.insert(property_key(site, issue, name), value);
    }

    /// The next `calls` REST calls the app makes to `site` are answered 429.
    pub fn rate_limit(&self, site: &str, calls: u32) {
        self.lock().rate_limited.insert(site.to_string(), calls);
    }
}

/// A 429 for `site`, if it was told to refuse this call.
pub(super) fn limited(host: &FakeHost, site: &str) -> Option<Response> {
    let mut inner = host.lock();
    let left = inner.rate_limited.get_mut(site).filter(|left| **left > 0)?;
    *left -= 1;
    Some((StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, RETRY_AFTER_SECS)], "rate limited").into_response())
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
