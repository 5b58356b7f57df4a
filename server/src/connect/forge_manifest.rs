//! The Connect-on-Forge `manifest.yml`, generated from the same descriptor
//! the app serves (connect-protocol.md: Connect reaches end of support in
//! December 2026; new installs go through Forge). `app.connect.key` is the
//! descriptor key, the modules move under `connectModules` with the product
//! prefix, lifecycle included, and the backend is a `remote`.

use serde_json::{Map, Value, json};

use super::descriptor::Descriptor;

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

/// The manifest as a JSON value (what the YAML says).
pub(crate) fn manifest(descriptor: &Descriptor, product: Product, app_id: Option<&str>) -> Value {
    let d = descriptor.value();
    let prefix = product.prefix();
    let mut connect_modules = Map::new();
    let mut lifecycle = json!({ "key": "lifecycle-events" });
    if let (Some(target), Some(source)) = (lifecycle.as_object_mut(), d["lifecycle"].as_object()) {
        target.extend(source.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    connect_modules.insert(format!("{prefix}:lifecycle"), json!([lifecycle]));
    for (kind, modules) in d["modules"].as_object().into_iter().flatten() {
        connect_modules.insert(format!("{prefix}:{kind}"), modules.clone());
    }
    let scopes: Vec<Value> = d["scopes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|scope| Value::String(format!("{}:connect-{prefix}", scope.to_ascii_lowercase().replace('_', "-"))))
        .collect();
    json!({
        "app": {
            "id": app_id.unwrap_or(PLACEHOLDER_APP_ID),
            "connect": { "key": descriptor.key(), "remote": REMOTE, "authentication": "jwt" },
        },
        "remotes": [{ "key": REMOTE, "baseUrl": d["baseUrl"] }],
        "modules": { "connectModules": connect_modules },
        "permissions": { "scopes": scopes },
    })
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
        let modules = &m["modules"]["connectModules"];
        assert_eq!(modules["jira:generalPages"], d.value()["modules"]["generalPages"]);
        assert_eq!(modules["jira:adminPages"], d.value()["modules"]["adminPages"]);
        for event in crate::connect::lifecycle::LifecycleEvent::ALL {
            assert_eq!(modules["jira:lifecycle"][0][event.as_str()], event.path());
        }
        assert_eq!(m["permissions"]["scopes"], json!(["read:connect-jira"]));
    }
}
