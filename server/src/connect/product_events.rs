//! Product events in both worlds: a Connect app hears `jira:issue_created`
//! through a webhook, a Forge app `avi:jira:created:issue` through a
//! `trigger` module. The app declares its events once, as the descriptor's
//! webhooks; this table gives each its Forge twin, so the manifest's trigger
//! lists them and a Forge delivery reaches the same handlers under the same
//! name. Pure.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::forge_modules::Product;

/// Connect's name, Forge's name, and the product that sends it. Forge has no
/// "comment created" for Jira: `avi:jira:commented:issue` is sent when a
/// comment is created or edited.
const TWINS: [(&str, &str, Product); 6] = [
    ("jira:issue_created", "avi:jira:created:issue", Product::Jira),
    ("jira:issue_updated", "avi:jira:updated:issue", Product::Jira),
    ("comment_created", "avi:jira:commented:issue", Product::Jira),
    ("page_created", "avi:confluence:created:page", Product::Confluence),
    ("page_updated", "avi:confluence:updated:page", Product::Confluence),
    ("comment_created", "avi:confluence:created:comment", Product::Confluence),
];

/// The Forge events a manifest for `product` subscribes to: the twins of
/// the descriptor's webhooks.
pub(crate) fn forge_events(webhooks: &[(String, String)], product: Product) -> Vec<&'static str> {
    TWINS
        .iter()
        .filter(|(connect, _, p)| *p == product && webhooks.iter().any(|(event, _)| event == connect))
        .map(|(_, forge, _)| *forge)
        .collect()
}

/// Names some write for a Forge event that Forge's event reference does not
/// list; read as their twin's if they arrive, never subscribed to.
const ALIASES: [(&str, &str); 1] = [("avi:jira:created:comment", "avi:jira:commented:issue")];

/// The name the app's handlers know a Forge event by (Connect's), if the
/// app declares it.
pub(crate) fn handler_name(forge_event: &str, webhooks: &[(String, String)]) -> Option<&'static str> {
    let forge_event = ALIASES.iter().find(|(alias, _)| *alias == forge_event).map_or(forge_event, |(_, twin)| twin);
    TWINS
        .iter()
        .find(|(connect, forge, _)| *forge == forge_event && webhooks.iter().any(|(event, _)| event == connect))
        .map(|(connect, _, _)| *connect)
}

/// A Forge delivery's event: Forge wraps it in `payload` (with a
/// `retryContext` on retries); a bare event object is read as well.
pub(crate) fn event_of(body: &Value) -> Option<&Value> {
    let event = body.get("payload").filter(|p| p.is_object()).unwrap_or(body);
    event.get("eventType").and_then(Value::as_str).map(|_| event)
}

/// The event without its `retryContext`: what every retry of it has in common.
pub(crate) fn without_retry_context(event: &Value) -> Value {
    let mut event = event.clone();
    if let Some(fields) = event.as_object_mut() {
        fields.remove("retryContext");
    }
    event
}

/// The deduplication key of a Forge delivery. Forge gives product events no
/// id of their own and resends the same event on a retry, adding only
/// `retryContext`, so the key is the hash of the event without it (object
/// keys sorted, so the key does not depend on their order).
pub(crate) fn delivery_id(event: &Value) -> String {
    let mut canonical = String::new();
    write_canonical(&without_retry_context(event), &mut canonical);
    format!("forge:{}", hex::encode(Sha256::digest(canonical.as_bytes())))
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn webhooks() -> Vec<(String, String)> {
        ["jira:issue_created", "comment_created", "page_created"].map(|e| (e.to_string(), format!("/w/{e}"))).to_vec()
    }

    #[test]
    fn each_product_subscribes_to_the_twins_of_the_declared_webhooks() {
        assert_eq!(forge_events(&webhooks(), Product::Jira), ["avi:jira:created:issue", "avi:jira:commented:issue"]);
        let confluence = forge_events(&webhooks(), Product::Confluence);
        assert_eq!(confluence, ["avi:confluence:created:page", "avi:confluence:created:comment"]);
        assert_eq!(handler_name("avi:confluence:created:comment", &webhooks()), Some("comment_created"));
        assert_eq!(handler_name("avi:jira:created:comment", &webhooks()), Some("comment_created"), "an alias");
        assert_eq!(handler_name("avi:jira:updated:issue", &webhooks()), None, "not declared");
        assert_eq!(handler_name("avi:jira:deleted:issue", &webhooks()), None, "no twin");
    }

    #[test]
    fn a_retry_has_the_same_delivery_id_and_another_event_another() {
        let first = json!({ "payload": { "eventType": "avi:jira:created:issue", "issue": { "key": "A-1" } } });
        let event = event_of(&first).unwrap();
        let retry = json!({ "issue": { "key": "A-1" }, "eventType": "avi:jira:created:issue",
            "retryContext": { "retryCount": 1, "retryReason": "TIMEOUT_ERROR", "retryData": null } });
        assert_eq!(delivery_id(event), delivery_id(event_of(&retry).unwrap()), "keys reordered, retry context added");
        let other = json!({ "eventType": "avi:jira:created:issue", "issue": { "key": "A-2" } });
        assert_ne!(delivery_id(event), delivery_id(&other));
        assert!(delivery_id(event).starts_with("forge:") && delivery_id(event).len() == 70);
        assert_eq!(event_of(&json!({ "payload": {} })), None, "no event type");
        assert_eq!(without_retry_context(&retry).get("retryContext"), None);
    }
}
