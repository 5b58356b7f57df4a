//! What the manifest says, as one JSON value: the app and its remote, the
//! Connect modules and Forge modules of each mode, and the scopes they need.

use serde_json::{Map, Value, json};

use super::{
    Mode, PLACEHOLDER_APP_ID, REMOTE_BASE_URL_VARIABLE,
    connect::{app_connect, connect_modules, connect_scopes, migration_intent},
};
use crate::connect::{
    descriptor::Descriptor,
    forge_event::ForgeEvent,
    forge_modules::{ForgeModule, Product},
    product_events,
};

/// What the Custom UI's scripts need beyond Forge's default policy.
const WASM_SCRIPT_PERMISSION: &str = "unsafe-eval";
/// The Custom UI resource the pages render (`cargo xtask forge-ui` writes it).
const UI_RESOURCE: &str = "main";
const UI_RESOURCE_PATH: &str = "target/forge/ui";

/// The manifest as a JSON value (what the YAML says), in the form that
/// `@forge/manifest` 13.7 accepts: its schema and its own validators (checked
/// by the test command through `tools/forge-manifest/validate.mjs`).
pub(crate) fn manifest(descriptor: &Descriptor, product: Product, app_id: Option<&str>, mode: Mode) -> Value {
    let d = descriptor.value();
    let base_url = d["baseUrl"].as_str().unwrap_or_default();
    let mut app = json!({
        "id": app_id.unwrap_or(PLACEHOLDER_APP_ID),
        // A remote-only app runs no Forge functions, but the schema requires a runtime.
        "runtime": { "name": "nodejs22.x" },
    });
    if let Some(connect) = app_connect(descriptor, mode) {
        app["connect"] = connect;
    }
    // A paid app says so in every manifest; a Connect-on-Forge one must agree with its descriptor,
    // so both read `enableLicensing` (`APP_LICENSING`).
    if descriptor.licensing() {
        app["licensing"] = json!({ "enabled": true });
    }
    let mut modules = forge_modules(descriptor, product, mode);
    if mode.has_connect_modules()
        && let Some(migration) = migration_intent(base_url)
    {
        modules.insert("connectToForgeMigration".into(), migration);
    }
    let mut manifest = json!({
        "app": app,
        "remotes": [{
            "key": mode.remote_key(),
            "baseUrl": format!("${{{REMOTE_BASE_URL_VARIABLE}}}"),
            "operations": ["compute", "storage"],
            "storage": { "inScopeEUD": true },
        }],
        // Each environment's deploy names its backend (`REMOTE_BASE_URL=… forge deploy -e staging`);
        // without it, the base URL the manifest was generated for.
        "environment": { "variables": [{ "key": REMOTE_BASE_URL_VARIABLE, "default": base_url }] },
    });
    let scopes = scopes(d, product, mode, &modules);
    if mode.has_connect_modules() {
        manifest["connectModules"] = Value::Object(connect_modules(d, product));
    }
    manifest["modules"] = Value::Object(modules);
    let mut permissions = json!({ "scopes": scopes });
    if mode.has_forge_pages() {
        manifest["resources"] = json!([{ "key": UI_RESOURCE, "path": UI_RESOURCE_PATH }]);
        // The page is WebAssembly: under CSP level 3 `'unsafe-eval'` lets it compile.
        // Forge's validator refuses `'wasm-unsafe-eval'`, which would say only that.
        permissions["content"] = json!({ "scripts": [WASM_SCRIPT_PERMISSION] });
    }
    manifest["permissions"] = permissions;
    manifest
}

/// The Forge modules, from the one list the routes read: each with the
/// endpoint that reaches the remote at the path the app serves for it.
fn forge_modules(descriptor: &Descriptor, product: Product, mode: Mode) -> Map<String, Value> {
    // Under Connect-on-Forge, product events keep coming as Connect webhooks and the pages stay Connect's.
    let wanted = |m: &ForgeModule| match m {
        ForgeModule::ProductEvents => !mode.has_connect_modules(),
        ForgeModule::GlobalPage | ForgeModule::AdminPage => mode.has_forge_pages(),
        _ => true,
    };
    let declared: Vec<ForgeModule> = ForgeModule::ALL.into_iter().filter(wanted).collect();
    let mut modules = Map::new();
    modules.insert("endpoint".into(), Value::Array(endpoints(&declared, mode.remote_key())));
    modules.insert("trigger".into(), json!([]));
    for module in declared {
        let (kind, entry) = match module {
            ForgeModule::Installed => ("trigger", trigger(module, vec![ForgeEvent::Installed.as_str()])),
            ForgeModule::Upgraded => ("trigger", trigger(module, vec![ForgeEvent::Upgraded.as_str()])),
            ForgeModule::ProductEvents => {
                let mut events = trigger(module, product_events::forge_events(&descriptor.webhooks(), product));
                // The app's own changes (a note shared as a comment) do not come back to it. Forge filters
                // Jira's events only (its validator refuses the filter on Confluence's): the app drops
                // Confluence's `selfGenerated` events itself (`connect::product_events::delivery`).
                if product == Product::Jira {
                    events["filter"] = json!({ "ignoreSelf": true });
                }
                // A paid app is not invoked for a site without an active licence (Forge skips it; the
                // app drops what still comes, `http::forge_product_events`).
                if descriptor.licensing() {
                    events["filter"]["appIsLicensed"] = json!(true);
                }
                ("trigger", events)
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
/// uninstall hook). The pages' endpoint asks for no token: the page's calls
/// (`requestRemote`) carry none, and the app acts as a user through Forge's
/// offline impersonation instead (`outbound::impersonation`).
fn endpoints(modules: &[ForgeModule], remote: &str) -> Vec<Value> {
    let mut endpoints: Vec<Value> = Vec::new();
    for module in modules {
        if endpoints.iter().any(|e| e["key"] == module.endpoint_key()) {
            continue;
        }
        let mut endpoint = json!({ "key": module.endpoint_key(), "remote": remote });
        if let Some(path) = module.path() {
            endpoint["route"] = json!({ "path": path });
        }
        let mut auth = Map::new();
        if module.asks_system_token() {
            auth.insert("appSystemToken".into(), json!({ "enabled": true }));
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
    if module == ForgeModule::AdminPage {
        // The admin page is the app's configuration: Jira opens it from the Configure button of the app's
        // entry in "Manage apps" (and no longer lists it in the admin sidebar). Confluence's
        // `globalSettings` takes the same flag (its schema: "used as the app's configuration").
        page["useAsConfig"] = json!(true);
    }
    if product == Product::Confluence && module == ForgeModule::GlobalPage {
        // Confluence's global page needs a route of its own (`^[a-z0-9-]+$`).
        page["route"] = json!("notes");
    }
    page
}

/// Connect-on-Forge: the descriptor's Connect scopes and the product read
/// the app makes as itself (`outbound::forge_api::health_path`). Migrated
/// and Forge-native: the least the app's calls need: reading the product
/// (its events, the health check, the admin check), users (display names),
/// writing comments (share, as the user), in the map form that marks the
/// scopes offline impersonation may use (`allowImpersonation`), and the
/// personal data report's. Then, in each mode, the system token's scope if
/// an endpoint asks for it (Forge mints none without another scope).
fn scopes(d: &Value, product: Product, mode: Mode, modules: &Map<String, Value>) -> Value {
    let endpoints = modules.get("endpoint").and_then(Value::as_array).into_iter().flatten();
    let system_token = endpoints.filter_map(|e| e.get("auth")).any(|auth| auth["appSystemToken"]["enabled"] == true);
    let system_token = system_token.then_some(SYSTEM_TOKEN_SCOPE);
    // Under Connect-on-Forge the Connect part reports personal data with its JWT; a Forge app with the system token.
    if mode.has_connect_modules() {
        let mut scopes = connect_scopes(d, product);
        scopes.extend([read_scope(product)].into_iter().chain(system_token).map(str::to_string));
        return json!(scopes);
    }
    let mut scopes: Map<String, Value> = native_scopes(product)
        .iter()
        .map(|(scope, as_user)| (scope.to_string(), json!({ "allowImpersonation": as_user })))
        .collect();
    if let Some(scope) = system_token {
        scopes.insert(scope.into(), json!({}));
    }
    scopes.insert(PERSONAL_DATA_SCOPE.into(), json!({}));
    Value::Object(scopes)
}

const SYSTEM_TOKEN_SCOPE: &str = "read:app-system-token";
/// Atlassian's personal data reporting API (`privacy`), as the app.
const PERSONAL_DATA_SCOPE: &str = "report:personal-data";

fn read_scope(product: Product) -> &'static str {
    match product {
        Product::Jira => "read:jira-work",
        Product::Confluence => "read:confluence-space.summary",
    }
}

/// Each scope, and whether the app uses it as a user: Jira's `mypermissions`
/// and comments; Confluence's own user (with its operations) and comments.
fn native_scopes(product: Product) -> &'static [(&'static str, bool)] {
    match product {
        Product::Jira => &[("read:jira-work", true), ("read:jira-user", false), ("write:jira-work", true)],
        Product::Confluence => &[
            ("read:confluence-space.summary", false),
            ("read:confluence-content.summary", false),
            ("read:confluence-user", true),
            ("write:confluence-content", true),
        ],
    }
}
