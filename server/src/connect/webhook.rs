//! Webhook deliveries (host → app): what identifies one across Atlassian's
//! retries, and which issue or page it is about (its jobs run in order).
//! Pure; the JWT itself is verified like a page JWT, with the qsh of this
//! POST (`host_token::verify_page_token`).

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Deliveries are a few KiB; Jira caps bodies well below this.
pub(crate) const MAX_WEBHOOK_BODY: usize = 256 * 1024;

/// The deduplication key: `X-Atlassian-Webhook-Identifier`, strictly
/// checked, or (Confluence sends none and does not retry) the body's hash.
pub(crate) fn delivery_id(identifier: Option<&str>, body: &[u8]) -> Result<String, &'static str> {
    match identifier {
        Some(id) if is_identifier(id) => Ok(id.to_string()),
        Some(_) => Err("malformed X-Atlassian-Webhook-Identifier"),
        None => Ok(format!("sha256:{}", hex::encode(Sha256::digest(body)))),
    }
}

fn is_identifier(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.'))
}

/// The issue key (Jira) or page id (Confluence) an event is about, from a
/// Connect webhook (`issue`, `page`) or a Forge event (`issue`, `content`:
/// a page, or a comment whose `container` is the page).
pub(crate) fn entity_key(payload: &Value) -> Option<String> {
    let as_text = |v: &Value| v.as_str().map(str::to_string).or_else(|| v.as_i64().map(|n| n.to_string()));
    let content = &payload["content"];
    let forge_page = match content["type"].as_str() {
        Some("page") => as_text(&content["id"]),
        Some("comment") => as_text(&content["container"]["id"]),
        _ => None,
    };
    as_text(&payload["issue"]["key"])
        .map(|key| format!("issue:{key}"))
        .or_else(|| as_text(&payload["page"]["id"]).or(forge_page).map(|id| format!("page:{id}")))
}

// demo:begin
/// One line for the Activity view: what happened to what.
pub(crate) fn summary(event: &str, payload: &Value) -> String {
    let title = payload["issue"]["fields"]["summary"]
        .as_str()
        .or_else(|| payload["page"]["title"].as_str())
        .or_else(|| payload["content"]["title"].as_str());
    let what = entity_key(payload).unwrap_or_else(|| "the site".into());
    let line = match title {
        Some(title) => format!("{event} on {what}: {title}"),
        None => format!("{event} on {what}"),
    };
    line.chars().take(300).collect()
}
// demo:end

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_identifier_is_the_key_and_a_missing_one_falls_back_to_the_body() {
        assert_eq!(delivery_id(Some("7f2e-1"), b"{}").unwrap(), "7f2e-1");
        for bad in ["", "a b", "x".repeat(129).as_str(), "id\n", "../x"] {
            assert!(delivery_id(Some(bad), b"{}").is_err(), "{bad:?}");
        }
        let a = delivery_id(None, b"{\"a\":1}").unwrap();
        assert_eq!(a, delivery_id(None, b"{\"a\":1}").unwrap(), "the same body, the same id");
        assert_ne!(a, delivery_id(None, b"{\"a\":2}").unwrap());
    }

    #[test]
    fn events_are_keyed_by_their_issue_or_page() {
        let issue = json!({ "issue": { "key": "ACME-7", "fields": { "summary": "Broken build" } } });
        assert_eq!(entity_key(&issue).as_deref(), Some("issue:ACME-7"));
        let page = json!({ "page": { "id": 42, "title": "Plan" } });
        assert_eq!(entity_key(&page).as_deref(), Some("page:42"));
        assert_eq!(entity_key(&json!({ "user": {} })), None);
        let forge_page = json!({ "content": { "id": "838205441", "type": "page", "title": "A brand new page" } });
        assert_eq!(entity_key(&forge_page).as_deref(), Some("page:838205441"));
        let forge_comment =
            json!({ "content": { "id": "9", "type": "comment", "container": { "id": 42, "type": "page" } } });
        assert_eq!(entity_key(&forge_comment).as_deref(), Some("page:42"), "a comment is about its page");
    }

    // demo:begin
    #[test]
    fn the_activity_line_says_what_happened_to_what() {
        let issue = json!({ "issue": { "key": "ACME-7", "fields": { "summary": "Broken build" } } });
        assert_eq!(summary("jira:issue_updated", &issue), "jira:issue_updated on issue:ACME-7: Broken build");
        let forge_page = json!({ "content": { "id": "838205441", "type": "page", "title": "A brand new page" } });
        assert_eq!(summary("page_created", &forge_page), "page_created on page:838205441: A brand new page");
        assert_eq!(summary("x", &json!({})), "x on the site");
    }
    // demo:end
}
