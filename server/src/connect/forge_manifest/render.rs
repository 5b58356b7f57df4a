//! The manifest written out: pretty JSON, or the YAML that `forge deploy`
//! reads, rendered by hand so every string is quoted and no value changes type.

use serde_json::Value;

use super::{Mode, manifest};
use crate::connect::{descriptor::Descriptor, forge_modules::Product};

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
