//! Atlassian's personal data reporting, as pure decisions: the accounts a
//! tenant's data names go to the API in batches of its size, each with the
//! time the app last stored that account's data; the answer says which
//! accounts are closed (their personal data must be erased) and which were
//! updated (data the app keeps about them must be refreshed).

use ids::{AccountId, UnixTime};
use serde_json::{Value, json};

/// Accounts per request: the API takes at most 90.
pub(crate) const BATCH: usize = 90;

/// An account the app stores personal data of, and the oldest time it
/// retrieved any of it (Atlassian: "the age must correspond to the oldest").
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Stored {
    pub account_id: AccountId,
    pub updated_at: UnixTime,
}

/// What the API says of an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// Closed: erase the app's personal data of it.
    Closed,
    /// Its personal data changed since `updatedAt`: refresh what the app keeps.
    Updated,
}

/// The body of one request.
pub(crate) fn body(batch: &[Stored]) -> Value {
    let accounts: Vec<Value> = batch
        .iter()
        .map(|s| json!({ "accountId": s.account_id.as_str(), "updatedAt": s.updated_at.rfc3339() }))
        .collect();
    json!({ "accounts": accounts })
}

/// The accounts the answer names with a status the app acts on; `null`
/// (Connect's empty 204) names none. An account the batch did not report,
/// or a status the app does not know, is ignored.
pub(crate) fn answer(value: &Value, batch: &[Stored]) -> Vec<(AccountId, Status)> {
    let listed = value["accounts"].as_array().into_iter().flatten();
    listed
        .filter_map(|entry| {
            let id = entry["accountId"].as_str()?;
            let status = match entry["status"].as_str()? {
                "closed" => Status::Closed,
                "updated" => Status::Updated,
                _ => return None,
            };
            let reported = batch.iter().find(|s| s.account_id.as_str() == id)?;
            Some((reported.account_id.clone(), status))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(id: &str, at: i64) -> Stored {
        Stored { account_id: AccountId::new(id), updated_at: UnixTime::from_secs(at) }
    }

    #[test]
    fn a_batch_names_each_account_with_when_it_was_stored() {
        let body = body(&[stored("a-1", 1_796_683_678), stored("a-2", 0)]);
        assert_eq!(
            body,
            json!({ "accounts": [
                { "accountId": "a-1", "updatedAt": "2026-12-07T22:47:58Z" },
                { "accountId": "a-2", "updatedAt": "1970-01-01T00:00:00Z" },
            ] })
        );
    }

    #[test]
    fn the_answer_names_closed_and_updated_accounts_of_the_batch_only() {
        let batch = [stored("a-1", 0), stored("a-2", 0), stored("a-3", 0)];
        let value = json!({ "accounts": [
            { "accountId": "a-1", "status": "closed" },
            { "accountId": "a-2", "status": "updated" },
            { "accountId": "a-3", "status": "reopened" },
            { "accountId": "x-9", "status": "closed" },
        ] });
        let acted = answer(&value, &batch);
        assert_eq!(acted, [(AccountId::new("a-1"), Status::Closed), (AccountId::new("a-2"), Status::Updated)]);
        assert!(answer(&Value::Null, &batch).is_empty(), "204: nothing to do");
    }
}
