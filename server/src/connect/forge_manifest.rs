//! The Forge `manifest.yml`, generated from the same sources the app
//! serves from: the descriptor (`atlassian-connect.json`) and the module list
//! (`connect::forge_modules`) the routes read, so the manifest says which
//! route serves which module and the routes accept exactly its FITs.
//! Two modes:
//! - Connect-on-Forge (the default), for an app moving off Connect:
//!   `app.connect.key` is the descriptor key, the Connect modules keep their
//!   kind under the product's `connect-` prefix, lifecycle included, and the
//!   Forge side adds its endpoints, triggers and pages. Product events keep
//!   coming as Connect webhooks.
//! - Forge-native (`--native`), for a new app (Connect modules are not
//!   supported in a new Forge app): no `app.connect` and no `connect-*`
//!   module; product events arrive through a `trigger`, and the scopes are
//!   the least the app's calls need.

use serde_json::{Map, Value, json};

use super::{
    descriptor::Descriptor,
    forge_event::ForgeEvent,
    forge_modules::{ForgeModule, Product},
    product_events,
};

/// Until `FORGE_APP_ID` is set, the manifest names a placeholder (`forge register` prints the real one).
pub(crate) const PLACEHOLDER_APP_ID: &str = "ari:cloud:ecosystem::app/00000000-0000-0000-0000-000000000000";
/// The remote that serves the Connect modules and every Forge endpoint.
const REMOTE: &str = app::host::FORGE_REMOTE;
/// What the Custom UI's scripts need beyond Forge's default policy.
const WASM_SCRIPT_PERMISSION: &str = "unsafe-eval";
/// The Custom UI resource the pages render (`cargo xtask forge-ui` writes it).
const UI_RESOURCE: &str = "main";
const UI_RESOURCE_PATH: &str = "target/forge/ui";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A Connect app on Forge: Connect modules beside the Forge ones.
    ConnectOnForge,
    /// A Forge app with a remote backend, and nothing of Connect.
    Native,
}

/// The manifest as a JSON value (what the YAML says), in the form the JSON
/// schema of `@forge/manifest` 13.7 accepts (checked in the test command).
pub(crate) fn manifest(descriptor: &Descriptor, product: Product, app_id: Option<&str>, mode: Mode) -> Value {
    let d = descriptor.value();
    let base_url = d["baseUrl"].as_str().unwrap_or_default();
    let mut app = json!({
        "id": app_id.unwrap_or(PLACEHOLDER_APP_ID),
        // A remote-only app runs no Forge functions, but the schema requires a runtime.
        "runtime": { "name": "nodejs22.x" },
    });
    let mut modules = Map::new();
    if mode == Mode::ConnectOnForge {
        app["connect"] = json!({ "key": descriptor.key(), "remote": REMOTE, "authentication": "jwt" });
        modules.extend(connect_modules(d, product));
        if let Some(migration) = migration_intent(base_url) {
            modules.insert("connectToForgeMigration".into(), migration);
        }
    }
    modules.extend(forge_modules(descriptor, product, mode));
    json!({
        "app": app,
        "remotes": [{
            "key": REMOTE,
            "baseUrl": base_url,
            "operations": ["compute", "storage"],
            "storage": { "inScopeEUD": true },
        }],
        "modules": modules,
        "resources": [{ "key": UI_RESOURCE, "path": UI_RESOURCE_PATH }],
        "permissions": {
            "scopes": scopes(d, product, mode),
            // The page is WebAssembly: under CSP level 3 `'unsafe-eval'` lets it compile.
            // Forge's validator refuses `'wasm-unsafe-eval'`, which would say only that.
            "content": { "scripts": [WASM_SCRIPT_PERMISSION] },
        },
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

/// The Forge modules, from the one list the routes read: each with the
/// endpoint that reaches the remote at the path the app serves for it.
fn forge_modules(descriptor: &Descriptor, product: Product, mode: Mode) -> Map<String, Value> {
    // Under Connect-on-Forge, product events keep coming as Connect webhooks.
    let wanted = |m: &ForgeModule| mode == Mode::Native || *m != ForgeModule::ProductEvents;
    let declared: Vec<ForgeModule> = ForgeModule::ALL.into_iter().filter(wanted).collect();
    let mut modules = Map::new();
    modules.insert("endpoint".into(), Value::Array(endpoints(&declared)));
    modules.insert("trigger".into(), json!([]));
    for module in declared {
        let (kind, entry) = match module {
            ForgeModule::Installed => ("trigger", trigger(module, vec![ForgeEvent::Installed.as_str()])),
            ForgeModule::Upgraded => ("trigger", trigger(module, vec![ForgeEvent::Upgraded.as_str()])),
            ForgeModule::ProductEvents => {
                ("trigger", trigger(module, product_events::forge_events(&descriptor.webhooks(), product)))
            }
            ForgeModule::PreUninstall => ("preUninstall", invoking(module)),
            ForgeModule::Hourly => ("scheduledTrigger", scheduled(module)),
            ForgeModule::GlobalPage | ForgeModule::AdminPage => {
                (page_kind(module, product), page(descriptor, module, product))
            }
        };
        if let Some(list) = modules.entry(kind).or_insert_with(|| json!([])).as_array_mut() {
            list.push(entry);
        }
    }
    modules
}

/// One `endpoint` per module endpoint (the pages share theirs): delivery
/// endpoints name their route and ask for the system token (all but the
/// uninstall hook); the pages' endpoint asks for the user's token.
fn endpoints(modules: &[ForgeModule]) -> Vec<Value> {
    let mut endpoints: Vec<Value> = Vec::new();
    for module in modules {
        if endpoints.iter().any(|e| e["key"] == module.endpoint_key()) {
            continue;
        }
        let mut endpoint = json!({ "key": module.endpoint_key(), "remote": REMOTE });
        if let Some(path) = module.path() {
            endpoint["route"] = json!({ "path": path });
        }
        let mut auth = Map::new();
        if module.asks_system_token() {
            auth.insert("appSystemToken".into(), json!({ "enabled": true }));
        }
        if module.asks_user_token() {
            auth.insert("appUserToken".into(), json!({ "enabled": true }));
        }
        if !auth.is_empty() {
            endpoint["auth"] = Value::Object(auth);
        }
        endpoints.push(endpoint);
    }
    endpoints
}

fn invoking(module: ForgeModule) -> Value {
    json!({ "key": module.key(), "endpoint": module.endpoint_key() })
}

fn scheduled(module: ForgeModule) -> Value {
    let mut hourly = invoking(module);
    hourly["interval"] = json!("hour");
    hourly
}

fn trigger(module: ForgeModule, events: Vec<&str>) -> Value {
    json!({ "key": module.key(), "events": events, "endpoint": module.endpoint_key() })
}

/// `jira:globalPage`, `jira:adminPage`, `confluence:globalPage`, `confluence:globalSettings`.
fn page_kind(module: ForgeModule, product: Product) -> &'static str {
    match (product, module) {
        (Product::Jira, ForgeModule::AdminPage) => "jira:adminPage",
        (Product::Jira, _) => "jira:globalPage",
        (Product::Confluence, ForgeModule::AdminPage) => "confluence:globalSettings",
        (Product::Confluence, _) => "confluence:globalPage",
    }
}

/// A Custom UI page, titled like the descriptor's Connect page it stands for.
fn page(descriptor: &Descriptor, module: ForgeModule, product: Product) -> Value {
    let d = descriptor.value();
    let connect = if module == ForgeModule::AdminPage { "adminPages" } else { "generalPages" };
    let title = d["modules"][connect][0]["name"]["value"].as_str().unwrap_or(module.key());
    let mut page = json!({
        "key": module.key(),
        "title": title,
        "resource": UI_RESOURCE,
        "resolver": { "endpoint": module.endpoint_key() },
    });
    if product == Product::Confluence && module == ForgeModule::GlobalPage {
        // Confluence's global page needs a route of its own (`^[a-z0-9-]+$`).
        page["route"] = json!("notes");
    }
    page
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

/// Connect-on-Forge: the descriptor's Connect scopes, the product read the
/// app makes as itself (`outbound::forge_api::health_path`), and the tokens
/// its endpoints ask for. Forge-native: the least the app's calls need:
/// reading the product (its events, the health check, the admin check),
/// users (display names), writing comments (share, as the user), and the
/// tokens.
fn scopes(d: &Value, product: Product, mode: Mode) -> Vec<Value> {
    let prefix = product.prefix();
    let mut scopes: Vec<String> = match mode {
        Mode::ConnectOnForge => {
            let connect = d["scopes"].as_array().into_iter().flatten().filter_map(Value::as_str);
            let mut scopes: Vec<String> = connect
                .map(|scope| format!("{}:connect-{prefix}", scope.to_ascii_lowercase().replace('_', "-")))
                .collect();
            scopes.push(read_scope(product).into());
            scopes
        }
        Mode::Native => native_scopes(product).iter().map(|s| s.to_string()).collect(),
    };
    scopes.extend(["read:app-system-token".to_string(), "read:app-user-token".to_string()]);
    scopes.into_iter().map(Value::String).collect()
}

fn read_scope(product: Product) -> &'static str {
    match product {
        Product::Jira => "read:jira-work",
        Product::Confluence => "read:confluence-space.summary",
    }
}

fn native_scopes(product: Product) -> &'static [&'static str] {
    match product {
        Product::Jira => &["read:jira-work", "read:jira-user", "write:jira-work"],
        Product::Confluence => &[
            "read:confluence-space.summary",
            "read:confluence-content.summary",
            "read:confluence-user",
            "write:confluence-content",
        ],
    }
}

/// The manifest as pretty JSON.
pub fn manifest_json(descriptor: &Descriptor, product: Product, app_id: Option<&str>, mode: Mode) -> String {
    serde_json::to_string_pretty(&manifest(descriptor, product, app_id, mode)).unwrap_or_default()
}

/// The manifest as YAML: block style, every string double-quoted (so no
/// value can be read as another type), keys in a stable order.
pub fn manifest_yaml(descriptor: &Descriptor, product: Product, app_id: Option<&str>, mode: Mode) -> String {
    let mut out =
        String::from("# Generated from atlassian-connect.json by `server forge-manifest`; do not edit by hand.\n");
    write_block(&manifest(descriptor, product, app_id, mode), 0, &mut out);
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

    const MODES: [Mode; 2] = [Mode::ConnectOnForge, Mode::Native];

    fn descriptor() -> Descriptor {
        Descriptor::render(TEMPLATE, "https://app.example.com").unwrap()
    }

    #[test]
    fn the_yaml_parses_back_to_exactly_the_manifest() {
        let d = descriptor();
        for (product, mode) in [Product::Jira, Product::Confluence].into_iter().flat_map(|p| MODES.map(|m| (p, m))) {
            let yaml = manifest_yaml(&d, product, None, mode);
            let docs = yaml_rust2::YamlLoader::load_from_str(&yaml).expect("valid YAML");
            assert_eq!(yaml_to_json(&docs[0]), manifest(&d, product, None, mode), "{yaml}");
        }
    }

    #[test]
    fn the_connect_on_forge_manifest_matches_the_descriptor() {
        let d = descriptor();
        let m = manifest(&d, Product::Jira, Some("ari:cloud:ecosystem::app/1234"), Mode::ConnectOnForge);
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
        let scopes = json!([
            "read:connect-jira",
            "write:connect-jira",
            "act-as-user:connect-jira",
            "read:jira-work",
            "read:app-system-token",
            "read:app-user-token"
        ]);
        assert_eq!(m["permissions"]["scopes"], scopes);
        let events: Vec<&str> =
            modules["connect-jira:webhooks"].as_array().unwrap().iter().filter_map(|w| w["event"].as_str()).collect();
        assert_eq!(events, ["jira:issue_created", "jira:issue_updated", "comment_created"]);
        assert_eq!(modules["connect-jira:webhooks"][0]["key"], "jira-issue-created");
        let confluence = manifest(&d, Product::Confluence, None, Mode::ConnectOnForge);
        let events = confluence["modules"]["connect-confluence:webhooks"].as_array().unwrap().len();
        assert_eq!(events, 3, "comment_created, page_created, page_updated");
        assert_eq!(modules["connectToForgeMigration"][0]["migrationGuideUrl"], "https://app.example.com/");
        let triggers = modules["trigger"].as_array().unwrap();
        assert!(triggers.iter().all(|t| t["key"] != "product-events"), "product events stay Connect webhooks");
    }

    #[test]
    fn the_native_manifest_has_nothing_of_connect() {
        let d = descriptor();
        for product in [Product::Jira, Product::Confluence] {
            let m = manifest(&d, product, None, Mode::Native);
            assert!(m["app"].get("connect").is_none(), "{product:?}");
            let keys: Vec<&String> = m["modules"].as_object().unwrap().keys().collect();
            assert!(keys.iter().all(|k| !k.starts_with("connect") && *k != "connectToForgeMigration"), "{keys:?}");
            let scopes = m["permissions"]["scopes"].as_array().unwrap();
            assert!(scopes.iter().all(|s| !s.as_str().unwrap().contains("connect")), "{scopes:?}");
        }
        // The wasm page compiles under Forge's CSP in both modes, with the one source Forge accepts.
        for mode in [Mode::Native, Mode::ConnectOnForge] {
            let m = manifest(&d, Product::Jira, None, mode);
            assert_eq!(m["permissions"]["content"], json!({ "scripts": ["unsafe-eval"] }), "{mode:?}");
        }
        let jira = manifest(&d, Product::Jira, None, Mode::Native);
        let scopes = json!([
            "read:jira-work",
            "read:jira-user",
            "write:jira-work",
            "read:app-system-token",
            "read:app-user-token"
        ]);
        assert_eq!(jira["permissions"]["scopes"], scopes);
        let product = jira["modules"]["trigger"].as_array().unwrap().iter().find(|t| t["key"] == "product-events");
        let events = &product.expect("a product-events trigger")["events"];
        assert_eq!(events, &json!(["avi:jira:created:issue", "avi:jira:updated:issue", "avi:jira:commented:issue"]));
        let confluence = manifest(&d, Product::Confluence, None, Mode::Native);
        let product =
            confluence["modules"]["trigger"].as_array().unwrap().iter().find(|t| t["key"] == "product-events");
        let events = &product.expect("a product-events trigger")["events"];
        let expected = ["avi:confluence:created:comment", "avi:confluence:created:page", "avi:confluence:updated:page"];
        let mut listed: Vec<&str> = events.as_array().unwrap().iter().filter_map(Value::as_str).collect();
        listed.sort();
        assert_eq!(listed, expected);
    }

    /// The manifest is the contract: every module of the one list is
    /// declared, and names an endpoint whose route is the path the app
    /// serves for it, with the tokens its calls need.
    #[test]
    fn every_module_names_the_endpoint_and_route_that_serve_it() {
        let d = descriptor();
        for (product, mode) in [Product::Jira, Product::Confluence].into_iter().flat_map(|p| MODES.map(|m| (p, m))) {
            let m = manifest(&d, product, None, mode);
            let modules = m["modules"].as_object().unwrap();
            let endpoints = modules["endpoint"].as_array().unwrap();
            for module in ForgeModule::ALL {
                if mode == Mode::ConnectOnForge && module == ForgeModule::ProductEvents {
                    continue;
                }
                let declared = modules
                    .values()
                    .filter_map(Value::as_array)
                    .flatten()
                    .find(|entry| entry["key"] == module.key())
                    .unwrap_or_else(|| panic!("{module:?} is not declared ({product:?}, {mode:?})"));
                let endpoint_key = declared["endpoint"].as_str().or(declared["resolver"]["endpoint"].as_str());
                assert_eq!(endpoint_key, Some(module.endpoint_key()), "{module:?}");
                let endpoint = endpoints.iter().find(|e| e["key"] == module.endpoint_key()).expect("its endpoint");
                assert_eq!(endpoint["route"]["path"].as_str(), module.path(), "{module:?}");
                assert_eq!(endpoint["auth"]["appSystemToken"]["enabled"] == true, module.asks_system_token());
                assert_eq!(endpoint["auth"]["appUserToken"]["enabled"] == true, module.asks_user_token());
                assert_eq!(endpoint["remote"], m["remotes"][0]["key"]);
            }
            assert_eq!(modules["scheduledTrigger"][0]["interval"], "hour");
            assert!(endpoints.iter().all(|e| e["key"].as_str().unwrap().len() <= 23));
        }
        let jira = manifest(&d, Product::Jira, None, Mode::Native);
        assert_eq!(jira["modules"]["jira:globalPage"][0]["title"], "Team notes");
        assert_eq!(jira["modules"]["jira:adminPage"][0]["resource"], jira["resources"][0]["key"]);
        let confluence = manifest(&d, Product::Confluence, None, Mode::Native);
        assert_eq!(confluence["modules"]["confluence:globalPage"][0]["route"], "notes");
        assert!(confluence["modules"]["confluence:globalSettings"].is_array());
        let dev = manifest(
            &Descriptor::render(TEMPLATE, "http://localhost:3000").unwrap(),
            Product::Jira,
            None,
            Mode::ConnectOnForge,
        );
        assert!(dev["modules"]["connectToForgeMigration"].is_null(), "a migration guide must be https");
    }
}
