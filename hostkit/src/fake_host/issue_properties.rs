//! Jira's issue properties (`/rest/api/3/issue/{key}/properties/{name}`),
//! the app's own data on an issue, as the site keeps them: PUT answers 200
//! with an empty body, DELETE 204, GET the property or 404. And Jira's rate
//! limits (`crate::rate_limits`): a site told to refuse its next calls, or
//! given a points budget, answers 429 with `Retry-After`, as Atlassian does.

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

    /// The next `calls` REST calls the app makes to `site` are answered 429
    /// (`RateLimit-Reason: jira-burst-based`, `Retry-After: 1`).
    pub fn rate_limit(&self, site: &str, calls: u32) {
        self.lock().rate_limits.burst(site, calls);
        if let (Some(forge), Some(s)) = (&self.forge, self.site(site)) {
            forge.api.rate_limit(&s.cloud_id, calls);
        }
    }

    /// `site` may spend `points` a window of `window_secs` (a read costs 1,
    /// a write 2); past it every call is answered 429 until the window ends
    /// (`RateLimit-Reason: jira-quota-tenant-based`), through Connect and Forge alike.
    pub fn points_budget(&self, site: &str, points: u32, window_secs: i64) {
        self.lock().rate_limits.set_budget(site, points, window_secs, crate::now());
        if let (Some(forge), Some(s)) = (&self.forge, self.site(site)) {
            forge.api.points_budget(&s.cloud_id, points, window_secs);
        }
    }
}

/// A 429 for `site`, if its limits refuse this call.
pub(super) fn limited(host: &FakeHost, site: &str, method: &str) -> Option<Response> {
    host.lock().rate_limits.charge(site, method, crate::now()).map(IntoResponse::into_response)
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
