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
    let scopes =
        json!(["read:jira-work", "read:jira-user", "write:jira-work", "read:app-system-token", "read:app-user-token"]);
    assert_eq!(jira["permissions"]["scopes"], scopes);
    let product = jira["modules"]["trigger"].as_array().unwrap().iter().find(|t| t["key"] == "product-events");
    let events = &product.expect("a product-events trigger")["events"];
    assert_eq!(events, &json!(["avi:jira:created:issue", "avi:jira:updated:issue", "avi:jira:commented:issue"]));
    let confluence = manifest(&d, Product::Confluence, None, Mode::Native);
    let product = confluence["modules"]["trigger"].as_array().unwrap().iter().find(|t| t["key"] == "product-events");
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
