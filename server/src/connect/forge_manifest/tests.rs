//! The manifest checked against the descriptor and the module list it is
//! generated from, and its YAML against the JSON value it renders.

use serde_json::{Value, json};

use super::*;
use crate::connect::{
    descriptor::{Descriptor, TEMPLATE},
    forge_modules::{ForgeModule, Product},
};

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

const PRODUCTS: [Product; 2] = [Product::Jira, Product::Confluence];

fn descriptor() -> Descriptor {
    Descriptor::render(TEMPLATE, "https://app.example.com").unwrap()
}

fn every_manifest() -> impl Iterator<Item = (Product, Mode)> {
    PRODUCTS.into_iter().flat_map(|p| Mode::ALL.map(|m| (p, m)))
}

fn module_list<'a>(m: &'a Value, section: &str, kind: &str) -> &'a [Value] {
    m[section][kind].as_array().map(Vec::as_slice).unwrap_or_default()
}

#[test]
fn the_yaml_parses_back_to_exactly_the_manifest() {
    let d = descriptor();
    for (product, mode) in every_manifest() {
        let yaml = manifest_yaml(&d, product, None, mode);
        let docs = yaml_rust2::YamlLoader::load_from_str(&yaml).expect("valid YAML");
        assert_eq!(yaml_to_json(&docs[0]), manifest(&d, product, None, mode), "{yaml}");
    }
}

#[test]
fn the_connect_on_forge_manifest_matches_the_descriptor() {
    let d = descriptor();
    let m = manifest(&d, Product::Jira, Some("ari:cloud:ecosystem::app/1234"), Mode::ConnectOnForge);
    assert_eq!(m["app"]["connect"], json!({ "key": d.key(), "remote": "connect", "authentication": "jwt" }));
    assert_eq!(m["app"]["id"], "ari:cloud:ecosystem::app/1234");
    assert_eq!(m["remotes"][0]["key"], m["app"]["connect"]["remote"]);
    let connect = &m["connectModules"];
    assert_eq!(connect["jira:generalPages"], d.value()["modules"]["generalPages"]);
    assert_eq!(connect["jira:adminPages"], d.value()["modules"]["adminPages"]);
    for event in crate::connect::lifecycle::LifecycleEvent::ALL {
        assert_eq!(connect["jira:lifecycle"][0][event.as_str()], event.path());
    }
    assert!(m["modules"].as_object().unwrap().keys().all(|k| !k.starts_with("connect-")), "the old spelling");
    // No endpoint asks for the user's token (the pages are Connect's): its scope is not asked for either.
    let scopes = ["read:connect-jira", "write:connect-jira", "act-as-user:connect-jira", "read:jira-work"];
    assert_eq!(m["permissions"]["scopes"], json!([&scopes[..], &["read:app-system-token"]].concat()));
    let events: Vec<&str> =
        module_list(&m, "connectModules", "jira:webhooks").iter().filter_map(|w| w["event"].as_str()).collect();
    assert_eq!(events, ["jira:issue_created", "jira:issue_updated", "comment_created"]);
    assert_eq!(connect["jira:webhooks"][0]["key"], "jira-issue-created");
    let confluence = manifest(&d, Product::Confluence, None, Mode::ConnectOnForge);
    let events = module_list(&confluence, "connectModules", "confluence:webhooks").len();
    assert_eq!(events, 3, "comment_created, page_created, page_updated");
    assert_eq!(m["modules"]["connectToForgeMigration"][0]["migrationGuideUrl"], "https://app.example.com/");
    let triggers = module_list(&m, "modules", "trigger");
    assert!(triggers.iter().all(|t| t["key"] != "product-events"), "product events stay Connect webhooks");
}

/// Done moving: the Connect key (and so the licences, data and app account)
/// stays, with the remote Forge carries the Connect app's region over to; no
/// Connect module, no JWT, no migration notice; pages, triggers and scopes
/// are the native manifest's.
#[test]
fn the_migrated_manifest_keeps_the_connect_key_and_no_connect_module() {
    let d = descriptor();
    for product in PRODUCTS {
        let m = manifest(&d, product, None, Mode::Migrated);
        let native = manifest(&d, product, None, Mode::Native);
        assert_eq!(m["app"]["connect"], json!({ "key": d.key(), "remote": m["remotes"][0]["key"] }), "{product:?}");
        assert!(m.get("connectModules").is_none());
        assert!(m["modules"].get("connectToForgeMigration").is_none());
        assert_eq!(m["modules"], native["modules"], "{product:?}: Forge pages and triggers as native");
        assert_eq!(m["permissions"], native["permissions"]);
        assert_eq!(m["remotes"], native["remotes"]);
        let scopes = m["permissions"]["scopes"].as_object().unwrap();
        assert!(scopes.keys().all(|s| !s.contains("connect")), "{scopes:?}");
    }
}

#[test]
fn the_native_manifest_has_nothing_of_connect() {
    let d = descriptor();
    for product in PRODUCTS {
        let m = manifest(&d, product, None, Mode::Native);
        assert!(m["app"].get("connect").is_none(), "{product:?}");
        assert!(m.get("connectModules").is_none());
        let keys: Vec<&String> = m["modules"].as_object().unwrap().keys().collect();
        assert!(keys.iter().all(|k| !k.starts_with("connect") && *k != "connectToForgeMigration"), "{keys:?}");
        let scopes = m["permissions"]["scopes"].as_object().unwrap();
        assert!(scopes.keys().all(|s| !s.contains("connect")), "{scopes:?}");
    }
    // The wasm page compiles under Forge's CSP wherever it is declared, with the one source Forge accepts.
    for mode in [Mode::Native, Mode::Migrated] {
        let m = manifest(&d, Product::Jira, None, mode);
        assert_eq!(m["permissions"]["content"], json!({ "scripts": ["unsafe-eval"] }), "{mode:?}");
    }
    let jira = manifest(&d, Product::Jira, None, Mode::Native);
    // Offline impersonation may use what the app does as a user (mypermissions, comments), and nothing else.
    let scopes = json!({
        "read:jira-work": { "allowImpersonation": true }, "read:jira-user": { "allowImpersonation": false },
        "write:jira-work": { "allowImpersonation": true }, "read:app-system-token": {},
        "report:personal-data": {},
    });
    assert_eq!(jira["permissions"]["scopes"], scopes, "no user token is asked for: requestRemote carries none");
    let product = module_list(&jira, "modules", "trigger").iter().find(|t| t["key"] == "product-events");
    let product = product.expect("a product-events trigger");
    assert_eq!(product["filter"], json!({ "ignoreSelf": true }), "the app's own changes do not come back");
    let events = &product["events"];
    assert_eq!(events, &json!(["avi:jira:created:issue", "avi:jira:updated:issue", "avi:jira:commented:issue"]));
    let confluence = manifest(&d, Product::Confluence, None, Mode::Native);
    let product = module_list(&confluence, "modules", "trigger").iter().find(|t| t["key"] == "product-events");
    let events = &product.expect("a product-events trigger")["events"];
    let expected = ["avi:confluence:created:comment", "avi:confluence:created:page", "avi:confluence:updated:page"];
    let mut listed: Vec<&str> = events.as_array().unwrap().iter().filter_map(Value::as_str).collect();
    listed.sort();
    assert_eq!(listed, expected);
}

/// A site shows each page once: Connect-on-Forge keeps the Connect pages and
/// declares no Forge page (nor the resource, CSP grant and user token only
/// the Forge pages need); the other modes have the Forge pages and no Connect one.
#[test]
fn each_page_is_declared_once() {
    let d = descriptor();
    for (product, mode) in every_manifest() {
        let m = manifest(&d, product, None, mode);
        let prefix = product.prefix();
        let connect_pages =
            ["generalPages", "adminPages"].map(|kind| module_list(&m, "connectModules", &format!("{prefix}:{kind}")));
        let forge_kinds: &[&str] = match product {
            Product::Jira => &["jira:globalPage", "jira:adminPage"],
            Product::Confluence => &["confluence:globalPage", "confluence:globalSettings"],
        };
        let forge_pages: Vec<&[Value]> = forge_kinds.iter().map(|kind| module_list(&m, "modules", kind)).collect();
        let titles: Vec<&str> = connect_pages
            .iter()
            .chain(&forge_pages)
            .flat_map(|list| list.iter())
            .filter_map(|page| page["name"]["value"].as_str().or(page["title"].as_str()))
            .collect();
        assert_eq!(titles, ["Team notes", "Notes app: install status"], "{product:?} {mode:?}");
        let connect = mode == Mode::ConnectOnForge;
        assert_eq!(connect_pages.iter().all(|list| list.len() == 1), connect, "{product:?} {mode:?}");
        assert_eq!(forge_pages.iter().all(|list| list.len() == 1), !connect, "{product:?} {mode:?}");
        assert_eq!(m.get("resources").is_none(), connect);
        assert_eq!(m["permissions"].get("content").is_none(), connect);
        assert!(!m["permissions"]["scopes"].to_string().contains("read:app-user-token"), "{product:?} {mode:?}");
    }
}

/// The admin page is the app's configuration page, in both products.
#[test]
fn the_forge_admin_page_is_the_apps_configuration() {
    let d = descriptor();
    for mode in [Mode::Migrated, Mode::Native] {
        let jira = manifest(&d, Product::Jira, None, mode);
        assert_eq!(jira["modules"]["jira:adminPage"][0]["useAsConfig"], true, "{mode:?}");
        assert!(jira["modules"]["jira:globalPage"][0].get("useAsConfig").is_none());
        let confluence = manifest(&d, Product::Confluence, None, mode);
        assert_eq!(confluence["modules"]["confluence:globalSettings"][0]["useAsConfig"], true, "{mode:?}");
    }
}

/// The remote's base URL is a manifest variable, so one manifest deploys to
/// every Forge environment, each naming its backend; by default the base
/// URL it was generated for.
#[test]
fn the_remote_base_url_is_a_manifest_variable_with_the_app_base_url_as_default() {
    let d = descriptor();
    for (product, mode) in every_manifest() {
        let m = manifest(&d, product, None, mode);
        assert_eq!(m["remotes"][0]["baseUrl"], "${REMOTE_BASE_URL}", "{product:?} {mode:?}");
        let variables = json!([{ "key": "REMOTE_BASE_URL", "default": "https://app.example.com" }]);
        assert_eq!(m["environment"]["variables"], variables);
        assert_eq!(m["remotes"].as_array().unwrap().len(), 1);
    }
}

/// The manifest is the contract: every module of the one list is
/// declared, and names an endpoint whose route is the path the app
/// serves for it, with the tokens its calls need.
#[test]
fn every_module_names_the_endpoint_and_route_that_serve_it() {
    let d = descriptor();
    for (product, mode) in every_manifest() {
        let m = manifest(&d, product, None, mode);
        let modules = m["modules"].as_object().unwrap();
        let endpoints = modules["endpoint"].as_array().unwrap();
        for module in ForgeModule::ALL {
            // Under Connect-on-Forge these are Connect's: webhooks and Connect pages.
            let connects =
                matches!(module, ForgeModule::ProductEvents | ForgeModule::GlobalPage | ForgeModule::AdminPage);
            if mode == Mode::ConnectOnForge && connects {
                assert!(!modules.values().filter_map(Value::as_array).flatten().any(|e| e["key"] == module.key()));
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
            assert!(endpoint["auth"].get("appUserToken").is_none(), "{module:?}: a page's calls carry no user token");
            assert_eq!(endpoint["remote"], m["remotes"][0]["key"]);
        }
        assert_eq!(modules["scheduledTrigger"][0]["interval"], "hour");
        assert!(endpoints.iter().all(|e| e["key"].as_str().unwrap().len() <= 23));
        let invoked = |key: &Value| {
            let entries = modules.values().filter_map(Value::as_array).flatten();
            entries.into_iter().any(|entry| entry["endpoint"] == *key || entry["resolver"]["endpoint"] == *key)
        };
        assert!(endpoints.iter().all(|e| invoked(&e["key"])), "{product:?} {mode:?}: an endpoint nothing invokes");
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

/// The remote's key says what it is: Connect's remote only where there are
/// Connect modules; elsewhere the backend the Custom UI's calls name.
#[test]
fn the_remote_is_named_connect_only_where_connect_modules_are() {
    let d = descriptor();
    for (product, mode) in every_manifest() {
        let m = manifest(&d, product, None, mode);
        let key = if mode == Mode::ConnectOnForge { "connect" } else { "remote-backend" };
        assert_eq!(m["remotes"][0]["key"], key, "{product:?} {mode:?}");
        if mode != Mode::ConnectOnForge {
            assert_eq!(m["remotes"][0]["key"], app::host::FORGE_REMOTE, "the page's calls reach it");
        }
        let endpoints = module_list(&m, "modules", "endpoint");
        assert!(endpoints.iter().all(|e| e["remote"] == key), "{product:?} {mode:?}");
    }
}

#[test]
fn a_paid_app_asks_for_licensing_in_every_manifest_and_skips_unlicensed_sites_events() {
    let paid = Descriptor::render_licensed(TEMPLATE, "https://app.example.com", true).unwrap();
    let free = descriptor();
    for (product, mode) in every_manifest() {
        let m = manifest(&paid, product, None, mode);
        assert_eq!(m["app"]["licensing"], json!({ "enabled": true }), "{product:?} {mode:?}");
        assert!(manifest(&free, product, None, mode)["app"].get("licensing").is_none(), "a free app says nothing");
        for trigger in module_list(&m, "modules", "trigger") {
            let product_events = trigger["key"] == ForgeModule::ProductEvents.key();
            assert_eq!(trigger["filter"]["appIsLicensed"] == true, product_events, "{trigger}");
        }
    }
}
