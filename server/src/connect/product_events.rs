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
/// comment is created or edited, told apart by the comment's dates.
const TWINS: [(&str, &str, Product); 7] = [
    ("jira:issue_created", "avi:jira:created:issue", Product::Jira),
    ("jira:issue_updated", "avi:jira:updated:issue", Product::Jira),
    ("comment_created", "avi:jira:commented:issue", Product::Jira),
    ("comment_updated", "avi:jira:commented:issue", Product::Jira),
    ("page_created", "avi:confluence:created:page", Product::Confluence),
    ("page_updated", "avi:confluence:updated:page", Product::Confluence),
    ("comment_created", "avi:confluence:created:comment", Product::Confluence),
];

/// The Forge events a manifest for `product` subscribes to: the twins of
/// the descriptor's webhooks, each once.
pub(crate) fn forge_events(webhooks: &[(String, String)], product: Product) -> Vec<&'static str> {
    let mut events: Vec<&'static str> = Vec::new();
    let declared = TWINS.iter().filter(|(connect, _, p)| *p == product && webhooks.iter().any(|(e, _)| e == connect));
    for (_, forge, _) in declared {
        if !events.contains(forge) {
            events.push(forge);
        }
    }
    events
}

/// Names some write for a Forge event that Forge's event reference does not
/// list; read as their twin's if they arrive, never subscribed to.
const ALIASES: [(&str, &str); 1] = [("avi:jira:created:comment", "avi:jira:commented:issue")];

/// What the app does with a verified Forge product event.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// Queue it for the handlers of this (Connect) name.
    Handle(&'static str),
    /// Acknowledge it and drop it, for this reason: Forge retries anything
    /// but a 2xx four times, and retrying will not make the app want it.
    Drop(&'static str),
}

/// Which handlers take `event` (Connect's name, if the app declares it), or
/// why none does: an event the app caused itself (`selfGenerated`, as a
/// comment shared as the app) never comes back to it.
pub(crate) fn delivery(event: &Value, webhooks: &[(String, String)]) -> Delivery {
    if event.get("selfGenerated").and_then(Value::as_bool) == Some(true) {
        return Delivery::Drop("the app's own change");
    }
    let forge_event = event.get("eventType").and_then(Value::as_str).unwrap_or_default();
    let forge_event = ALIASES.iter().find(|(alias, _)| *alias == forge_event).map_or(forge_event, |(_, twin)| twin);
    let edited = comment_edited(event);
    let twin = TWINS.iter().find(|(connect, forge, _)| {
        *forge == forge_event
            && (forge_event != "avi:jira:commented:issue" || (*connect == "comment_updated") == edited)
    });
    match twin {
        Some((connect, _, _)) if webhooks.iter().any(|(event, _)| event == connect) => Delivery::Handle(connect),
        _ => Delivery::Drop("the app subscribes to no such event"),
    }
}

/// Whether a comment event is about an edit: Jira stamps a new comment's
/// `created` and `updated` alike and moves `updated` on every edit.
fn comment_edited(event: &Value) -> bool {
    let comment = &event["comment"];
    match (comment["created"].as_str(), comment["updated"].as_str()) {
        (Some(created), Some(updated)) => created != updated,
        _ => false,
    }
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

    fn handled(event_type: &str) -> Delivery {
        delivery(&json!({ "eventType": event_type, "selfGenerated": false }), &webhooks())
    }

    #[test]
    fn each_product_subscribes_to_the_twins_of_the_declared_webhooks() {
        assert_eq!(forge_events(&webhooks(), Product::Jira), ["avi:jira:created:issue", "avi:jira:commented:issue"]);
        let confluence = forge_events(&webhooks(), Product::Confluence);
        assert_eq!(confluence, ["avi:confluence:created:page", "avi:confluence:created:comment"]);
        let with_edits = [webhooks(), vec![("comment_updated".into(), "/w/u".into())]].concat();
        assert_eq!(forge_events(&with_edits, Product::Jira).len(), 2, "commented:issue once for both");
        assert_eq!(handled("avi:confluence:created:comment"), Delivery::Handle("comment_created"));
        assert_eq!(handled("avi:jira:created:comment"), Delivery::Handle("comment_created"), "an alias");
        assert!(matches!(handled("avi:jira:updated:issue"), Delivery::Drop(_)), "not declared");
        assert!(matches!(handled("avi:jira:deleted:issue"), Delivery::Drop(_)), "no twin");
        assert!(matches!(handled("avi:unheard:of"), Delivery::Drop(_)), "unknown");
    }

    #[test]
    fn a_comment_edit_is_told_from_a_new_comment_by_its_dates() {
        let comment = |created: &str, updated: &str| {
            json!({
                "eventType": "avi:jira:commented:issue",
                "comment": { "created": created, "updated": updated },
            })
        };
        let new = comment("2026-12-07T08:00:00.000+0000", "2026-12-07T08:00:00.000+0000");
        let edit = comment("2026-12-07T08:00:00.000+0000", "2026-12-07T09:30:00.000+0000");
        assert_eq!(delivery(&new, &webhooks()), Delivery::Handle("comment_created"));
        assert!(matches!(delivery(&edit, &webhooks()), Delivery::Drop(_)), "comment_updated is not declared");
        let with_edits = [webhooks(), vec![("comment_updated".into(), "/w/u".into())]].concat();
        assert_eq!(delivery(&edit, &with_edits), Delivery::Handle("comment_updated"));
        assert_eq!(delivery(&new, &with_edits), Delivery::Handle("comment_created"));
    }

    #[test]
    fn the_apps_own_changes_are_dropped() {
        let own = json!({ "eventType": "avi:jira:created:issue", "selfGenerated": true });
        assert!(matches!(delivery(&own, &webhooks()), Delivery::Drop(_)));
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
