//! What the manifest says, as one JSON value: the app and its remote, the
//! Connect modules and Forge modules of each mode, and the scopes they need.

use serde_json::{Map, Value, json};

use super::{Mode, PLACEHOLDER_APP_ID};
use crate::connect::{
    descriptor::Descriptor,
    forge_event::ForgeEvent,
    forge_modules::{ForgeModule, Product},
    product_events,
};

/// The remote that serves the Connect modules and every Forge endpoint.
const REMOTE: &str = app::host::FORGE_REMOTE;
/// What the Custom UI's scripts need beyond Forge's default policy.
const WASM_SCRIPT_PERMISSION: &str = "unsafe-eval";
/// The Custom UI resource the pages render (`cargo xtask forge-ui` writes it).
const UI_RESOURCE: &str = "main";
const UI_RESOURCE_PATH: &str = "target/forge/ui";

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
