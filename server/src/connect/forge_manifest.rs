//! The Connect-on-Forge `manifest.yml`, generated from the same descriptor
//! the app serves (connect-protocol.md: Connect reaches end of support in
//! December 2026; new installs go through Forge). `app.connect.key` is the
//! descriptor key, the Connect modules keep their kind under the product's
//! `connect-` prefix, lifecycle included, the backend is a `remote`, and the
//! Forge side adds the endpoints, triggers and scheduled trigger that
//! `connect::forge_event` serves, so the manifest says which route serves
//! which event.

use serde_json::{Map, Value, json};

use super::{descriptor::Descriptor, forge_event::ForgeEvent};

/// Until `FORGE_APP_ID` is set, the manifest names a placeholder (`forge register` prints the real one).
pub(crate) const PLACEHOLDER_APP_ID: &str = "ari:cloud:ecosystem::app/00000000-0000-0000-0000-000000000000";
const REMOTE: &str = "connect";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Product {
    Jira,
    Confluence,
}

impl Product {
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            Self::Jira => "jira",
            Self::Confluence => "confluence",
        }
    }
}

impl std::str::FromStr for Product {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "jira" => Ok(Self::Jira),
            "confluence" => Ok(Self::Confluence),
            other => Err(format!("product must be jira or confluence, not {other:?}")),
        }
    }
}

/// The manifest as a JSON value (what the YAML says), in the form the JSON
/// schema of `@forge/manifest` 13.7 accepts (checked in the test command):
/// Connect modules under `modules` as `connect-<product>:<kind>`.
pub(crate) fn manifest(descriptor: &Descriptor, product: Product, app_id: Option<&str>) -> Value {
    let d = descriptor.value();
    let base_url = d["baseUrl"].as_str().unwrap_or_default();
    let mut modules = connect_modules(d, product);
    modules.extend(forge_modules(product));
    if let Some(migration) = migration_intent(base_url) {
        modules.insert("connectToForgeMigration".into(), migration);
    }
    json!({
        "app": {
            "id": app_id.unwrap_or(PLACEHOLDER_APP_ID),
            // A remote-only app runs no Forge functions, but the schema requires a runtime.
            "runtime": { "name": "nodejs22.x" },
            "connect": { "key": descriptor.key(), "remote": REMOTE, "authentication": "jwt" },
        },
        "remotes": [{
            "key": REMOTE,
            "baseUrl": base_url,
            "operations": ["compute", "storage"],
            "storage": { "inScopeEUD": true },
        }],
        "modules": modules,
        "permissions": { "scopes": scopes(d, product) },
    })
}

/// The descriptor's modules and lifecycle callbacks, as `connect-<product>:<kind>`.
fn connect_modules(d: &Value, product: Product) -> Map<String, Value> {
    let prefix = product.prefix();
    let mut modules = Map::new();
    let mut lifecycle = json!({ "key": "lifecycle-events" });
    if let (Some(target), Some(source)) = (lifecycle.as_object_mut(), d["lifecycle"].as_object()) {
        target.extend(source.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    modules.insert(format!("connect-{prefix}:lifecycle"), json!([lifecycle]));
    for (kind, list) in d["modules"].as_object().into_iter().flatten() {
        let list = if kind == "webhooks" { webhooks_of(list, product) } else { list.clone() };
        modules.insert(format!("connect-{prefix}:{kind}"), list);
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

/// The remote endpoints Forge delivers to, and the modules that name them:
/// the lifecycle triggers, `preUninstall` and the hourly scheduled trigger.
/// Each endpoint asks for the system token, which the app keeps.
fn forge_modules(_product: Product) -> Map<String, Value> {
    let endpoint_key = |event: ForgeEvent| format!("{}-endpoint", event.module_key());
    let endpoints: Vec<Value> = ForgeEvent::ALL
        .iter()
        .map(|event| {
            json!({
                "key": endpoint_key(*event),
                "remote": REMOTE,
                "route": { "path": event.path() },
                "auth": { "appSystemToken": { "enabled": true } },
            })
        })
        .collect();
    let module = |event: ForgeEvent| json!({ "key": event.module_key(), "endpoint": endpoint_key(event) });
    let trigger = |event: ForgeEvent| {
        let mut m = module(event);
        m["events"] = json!([event.as_str()]);
        m
    };
    let mut hourly = module(ForgeEvent::Hourly);
    hourly["interval"] = json!("hour");
    let mut modules = Map::new();
    modules.insert("endpoint".into(), Value::Array(endpoints));
    modules.insert("trigger".into(), json!([trigger(ForgeEvent::Installed), trigger(ForgeEvent::Upgraded)]));
    modules.insert("preUninstall".into(), json!([module(ForgeEvent::PreUninstall)]));
    modules.insert("scheduledTrigger".into(), json!([hourly]));
    modules
}

/// The app's migration intent, so site admins do not see Atlassian's default
/// end-of-support notice. The guide must be public and https.
fn migration_intent(base_url: &str) -> Option<Value> {
    base_url.starts_with("https://").then(|| {
        json!([{
            "key": "migration-intent",
            "migrationGuideUrl": format!("{base_url}/"),
            "willMigrateToForgeBeforeEOS": "YES",
        }])
    })
}

/// The descriptor's Connect scopes, plus what the system token needs for the
/// product read the app makes as itself (`outbound::forge_api::health_path`).
fn scopes(d: &Value, product: Product) -> Vec<Value> {
    let prefix = product.prefix();
    let connect = d["scopes"].as_array().into_iter().flatten().filter_map(Value::as_str);
    let mut scopes: Vec<Value> = connect
        .map(|scope| Value::String(format!("{}:connect-{prefix}", scope.to_ascii_lowercase().replace('_', "-"))))
        .collect();
    let api_read = match product {
        Product::Jira => "read:jira-work",
        Product::Confluence => "read:confluence-space.summary",
    };
    scopes.push(Value::String(api_read.into()));
    scopes
}

/// The manifest as pretty JSON.
pub fn manifest_json(descriptor: &Descriptor, product: Product, app_id: Option<&str>) -> String {
    serde_json::to_string_pretty(&manifest(descriptor, product, app_id)).unwrap_or_default()
}

/// The manifest as YAML: block style, every string double-quoted (so no
/// value can be read as another type), keys in a stable order.
pub fn manifest_yaml(descriptor: &Descriptor, product: Product, app_id: Option<&str>) -> String {
    let mut out =
        String::from("# Generated from atlassian-connect.json by `server forge-manifest`; do not edit by hand.\n");
    write_block(&manifest(descriptor, product, app_id), 0, &mut out);
    out
}

fn write_block(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                out.push_str(&format!("{pad}{}:", yaml_key(key)));
                write_child(v, indent, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                out.push_str(&format!("{pad}-"));
                match item {
                    Value::Object(map) if !map.is_empty() => {
                        // The first key shares the dash's line; the rest align under it.
                        let mut first = true;
                        for (key, v) in map {
                            if first {
                                out.push_str(&format!(" {}:", yaml_key(key)));
                                first = false;
                            } else {
                                out.push_str(&format!("{pad}  {}:", yaml_key(key)));
                            }
                            write_child(v, indent + 2, out);
                        }
                    }
                    other => write_child(other, indent, out),
                }
            }
        }
        scalar => out.push_str(&format!("{pad}{}\n", yaml_scalar(scalar))),
    }
}

fn write_child(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_block(value, indent + 2, out);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_block(value, indent + 2, out);
        }
        Value::Object(_) => out.push_str(" {}\n"),
        Value::Array(_) => out.push_str(" []\n"),
        scalar => out.push_str(&format!(" {}\n", yaml_scalar(scalar))),
    }
}

fn yaml_key(key: &str) -> String {
    let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-'));
    if plain { key.to_string() } else { Value::String(key.to_string()).to_string() }
}

fn yaml_scalar(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        // JSON strings, numbers and booleans are valid YAML flow scalars.
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::descriptor::TEMPLATE;

    fn yaml_to_json(yaml: &yaml_rust2::Yaml) -> Value {
        use yaml_rust2::Yaml;
        match yaml {
            Yaml::Hash(h) => Value::Object(
                h.iter().map(|(k, v)| (k.as_str().expect("string keys").to_string(), yaml_to_json(v))).collect(),
            ),
            Yaml::Array(a) => Value::Array(a.iter().map(yaml_to_json).collect()),
            Yaml::String(s) => Value::String(s.clone()),
            Yaml::Boolean(b) => Value::Bool(*b),
            Yaml::Integer(i) => json!(i),
            Yaml::Null => Value::Null,
            other => panic!("unexpected YAML node {other:?}"),
        }
    }

    #[test]
    fn the_yaml_parses_back_to_exactly_the_manifest() {
        let d = Descriptor::render(TEMPLATE, "https://app.example.com").unwrap();
        for product in [Product::Jira, Product::Confluence] {
            let yaml = manifest_yaml(&d, product, None);
            let docs = yaml_rust2::YamlLoader::load_from_str(&yaml).expect("valid YAML");
            assert_eq!(yaml_to_json(&docs[0]), manifest(&d, product, None), "{yaml}");
        }
    }

    #[test]
    fn the_manifest_matches_the_descriptor() {
        let d = Descriptor::render(TEMPLATE, "https://app.example.com").unwrap();
        let m = manifest(&d, Product::Jira, Some("ari:cloud:ecosystem::app/1234"));
        assert_eq!(m["app"]["connect"]["key"], d.key());
        assert_eq!(m["app"]["id"], "ari:cloud:ecosystem::app/1234");
        assert_eq!(m["remotes"][0]["baseUrl"], "https://app.example.com");
        assert_eq!(m["remotes"][0]["key"], m["app"]["connect"]["remote"]);
        let modules = &m["modules"];
        assert_eq!(modules["connect-jira:generalPages"], d.value()["modules"]["generalPages"]);
        assert_eq!(modules["connect-jira:adminPages"], d.value()["modules"]["adminPages"]);
        for event in crate::connect::lifecycle::LifecycleEvent::ALL {
            assert_eq!(modules["connect-jira:lifecycle"][0][event.as_str()], event.path());
        }
        let scopes = json!(["read:connect-jira", "write:connect-jira", "act-as-user:connect-jira", "read:jira-work"]);
        assert_eq!(m["permissions"]["scopes"], scopes);
        let events: Vec<&str> =
            modules["connect-jira:webhooks"].as_array().unwrap().iter().filter_map(|w| w["event"].as_str()).collect();
        assert_eq!(events, ["jira:issue_created", "jira:issue_updated", "comment_created"]);
        assert_eq!(modules["connect-jira:webhooks"][0]["key"], "jira-issue-created");
        let confluence = manifest(&d, Product::Confluence, None);
        let events = confluence["modules"]["connect-confluence:webhooks"].as_array().unwrap().len();
        assert_eq!(events, 3, "comment_created, page_created, page_updated");
        assert_eq!(modules["connectToForgeMigration"][0]["migrationGuideUrl"], "https://app.example.com/");
    }

    /// The manifest is the contract: each Forge delivery names an endpoint
    /// whose route is the path the app serves for it, with the system token.
    #[test]
    fn every_forge_delivery_names_the_route_that_serves_it() {
        let d = Descriptor::render(TEMPLATE, "https://app.example.com").unwrap();
        let m = manifest(&d, Product::Confluence, None);
        let modules = &m["modules"];
        let endpoint_path = |key: &Value| {
            let endpoints = modules["endpoint"].as_array().unwrap();
            let found = endpoints.iter().find(|e| e["key"] == *key).expect("the endpoint is declared");
            assert_eq!(found["auth"]["appSystemToken"]["enabled"], true);
            found["route"]["path"].as_str().unwrap().to_string()
        };
        let triggers = modules["trigger"].as_array().unwrap();
        for event in [ForgeEvent::Installed, ForgeEvent::Upgraded] {
            let trigger = triggers.iter().find(|t| t["events"][0] == event.as_str()).expect("a trigger");
            assert_eq!(endpoint_path(&trigger["endpoint"]), event.path());
        }
        assert_eq!(endpoint_path(&modules["preUninstall"][0]["endpoint"]), ForgeEvent::PreUninstall.path());
        assert_eq!(modules["scheduledTrigger"][0]["interval"], "hour");
        assert_eq!(endpoint_path(&modules["scheduledTrigger"][0]["endpoint"]), ForgeEvent::Hourly.path());
        let dev = manifest(&Descriptor::render(TEMPLATE, "http://localhost:3000").unwrap(), Product::Jira, None);
        assert!(dev["modules"]["connectToForgeMigration"].is_null(), "a migration guide must be https");
    }
}
