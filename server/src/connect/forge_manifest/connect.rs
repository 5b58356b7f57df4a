//! The Connect side of a manifest: `app.connect`, the descriptor's modules
//! under `connectModules`, the migration intent, and the Connect scopes.

use serde_json::{Map, Value, json};

use super::Mode;
use crate::connect::{descriptor::Descriptor, forge_modules::Product};

/// `app.connect` of the modes that keep the Connect key. `authentication`
/// only with Connect modules: @forge/manifest refuses it without them. The
/// remote stays named without them too: without it Forge warns that the
/// Connect app's data residency region is not carried over on the upgrade.
pub(super) fn app_connect(descriptor: &Descriptor, mode: Mode) -> Option<Value> {
    mode.keeps_connect_key().then(|| {
        let mut connect = json!({ "key": descriptor.key(), "remote": mode.remote_key() });
        if mode.has_connect_modules() {
            connect["authentication"] = json!("jwt");
        }
        connect
    })
}

/// The descriptor's modules and lifecycle callbacks, as `connectModules`
/// keyed `<product>:<kind>` (the names @forge/manifest's validator admits:
/// its `connect-<product>:<kind>` modules without the prefix).
pub(super) fn connect_modules(d: &Value, product: Product) -> Map<String, Value> {
    let prefix = product.prefix();
    let mut modules = Map::new();
    let mut lifecycle = json!({ "key": "lifecycle-events" });
    if let (Some(target), Some(source)) = (lifecycle.as_object_mut(), d["lifecycle"].as_object()) {
        target.extend(source.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    modules.insert(format!("{prefix}:lifecycle"), json!([lifecycle]));
    for (kind, list) in d["modules"].as_object().into_iter().flatten() {
        let list = if kind == "webhooks" { webhooks_of(list, product) } else { list.clone() };
        modules.insert(format!("{prefix}:{kind}"), list);
    }
    modules
}

/// The descriptor lists both products' webhooks; each manifest keeps its own
/// (Confluence's are the `page_*` events; `comment_created` exists in both).
fn webhooks_of(list: &Value, product: Product) -> Value {
    let keep = |w: &&Value| {
        let confluence_only = w["event"].as_str().is_some_and(|e| e.starts_with("page_"));
        let jira_only = w["event"].as_str().is_some_and(|e| e.starts_with("jira:"));
        match product {
            Product::Jira => !confluence_only,
            Product::Confluence => !jira_only,
        }
    };
    let with_key = |w: &Value| {
        let mut w = w.clone();
        // Forge wants a module key; the webhook's own path segment is unique.
        let key = w["url"].as_str().and_then(|u| u.rsplit('/').next()).unwrap_or_default().to_string();
        w["key"] = Value::String(key);
        w
    };
    Value::Array(list.as_array().into_iter().flatten().filter(keep).map(with_key).collect())
}

/// The app's migration intent, so site admins do not see Atlassian's default
/// end-of-support notice. The guide must be public and https.
pub(super) fn migration_intent(base_url: &str) -> Option<Value> {
    base_url.starts_with("https://").then(|| {
        json!([{
            "key": "migration-intent",
            "migrationGuideUrl": format!("{base_url}/"),
            "willMigrateToForgeBeforeEOS": "YES",
        }])
    })
}

/// The descriptor's Connect scopes, as Forge spells them (`read:connect-jira`, …).
pub(super) fn connect_scopes(d: &Value, product: Product) -> Vec<String> {
    let prefix = product.prefix();
    let connect = d["scopes"].as_array().into_iter().flatten().filter_map(Value::as_str);
    connect.map(|scope| format!("{}:connect-{prefix}", scope.to_ascii_lowercase().replace('_', "-"))).collect()
}
