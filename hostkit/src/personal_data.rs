//! Atlassian's personal data reporting API as the fakes play it: accounts
//! are closed or have their data updated (Atlassian's accounts are global,
//! so the same everywhere); a report of at most 90 accounts is answered 204
//! when nothing needs doing, else 200 naming each closed account, and each
//! account updated after the `updatedAt` the app sent. Every report is kept
//! (who made it, how many accounts) for the tests to read.

use std::collections::{HashMap, HashSet};

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

/// The most accounts one report may name.
const BATCH: usize = 90;

#[derive(Default)]
pub(crate) struct Accounts {
    closed: HashSet<String>,
    /// When each updated account's data changed (RFC 3339, UTC, to the second).
    updated: HashMap<String, String>,
    /// (who reported: a site or a cloudId, how many accounts).
    pub(crate) reports: Vec<(String, usize)>,
}

impl Accounts {
    pub(crate) fn close(&mut self, account_id: &str) {
        self.closed.insert(account_id.to_string());
    }

    pub(crate) fn update(&mut self, account_id: &str) {
        let now = ids::UnixTime::from_secs(crate::now()).rfc3339();
        self.updated.insert(account_id.to_string(), now);
    }

    /// The answer to a report `body` from `who`.
    pub(crate) fn answer(&mut self, who: &str, body: &Value) -> Response {
        let Some(accounts) = body["accounts"].as_array().filter(|a| !a.is_empty() && a.len() <= BATCH) else {
            let error = json!({ "errorType": "INVALID_REQUEST", "errorMessage": "1 to 90 accounts" });
            return (StatusCode::BAD_REQUEST, Json(error)).into_response();
        };
        self.reports.push((who.to_string(), accounts.len()));
        let acted: Vec<Value> = accounts.iter().filter_map(|a| self.status(a)).collect();
        if acted.is_empty() {
            return StatusCode::NO_CONTENT.into_response();
        }
        Json(json!({ "accounts": acted })).into_response()
    }

    fn status(&self, reported: &Value) -> Option<Value> {
        let id = reported["accountId"].as_str()?;
        let since = reported["updatedAt"].as_str().unwrap_or_default();
        let status = if self.closed.contains(id) {
            "closed"
        } else if self.updated.get(id).is_some_and(|at| at.as_str() > since) {
            "updated"
        } else {
            return None;
        };
        Some(json!({ "accountId": id, "status": status }))
    }
}
