//! The app descriptor, rendered from `atlassian-connect.json` (the one source)
//! with `baseUrl` filled in. Rendered once at start, so every request gets the
//! same bytes: Marketplace treats a changed descriptor as a new version.

use serde_json::Value;

use super::lifecycle::LifecycleEvent;
use crate::error::{Error, Result};

/// The template, compiled into the binary so a deployed app needs no files.
pub const TEMPLATE: &str = include_str!("../../../atlassian-connect.json");

#[derive(Clone, Debug)]
pub struct Descriptor {
    value: Value,
    bytes: Vec<u8>,
}

impl Descriptor {
    /// Fills `baseUrl` into the template and checks the fields the protocol
    /// needs; `enableLicensing` stays as the template says.
    pub fn render(template: &str, base_url: &str) -> Result<Self> {
        let licensing = serde_json::from_str::<Value>(template).ok().is_some_and(|v| v["enableLicensing"] == true);
        Self::render_licensed(template, base_url, licensing)
    }

    /// [`Self::render`] with `enableLicensing` set to `licensing`.
    pub fn render_licensed(template: &str, base_url: &str, licensing: bool) -> Result<Self> {
        let mut value: Value =
            serde_json::from_str(template).map_err(|e| Error::Config(format!("atlassian-connect.json: {e}")))?;
        let object = value
            .as_object_mut()
            .ok_or_else(|| Error::Config("atlassian-connect.json must be a JSON object".into()))?;
        object.insert("baseUrl".into(), Value::String(base_url.trim_end_matches('/').to_string()));
        object.insert("enableLicensing".into(), Value::Bool(licensing));
        check_protocol_fields(&value)?;
        let mut bytes = serde_json::to_vec_pretty(&value).map_err(|e| Error::Internal(e.to_string()))?;
        bytes.push(b'\n');
        Ok(Self { value, bytes })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub(crate) fn value(&self) -> &Value {
        &self.value
    }

    /// Whether the app is paid (`enableLicensing`): the manifests agree with it.
    pub fn licensing(&self) -> bool {
        self.value["enableLicensing"] == true
    }

    /// The app key (`key`), which signed calls to the host use as `iss`.
    pub(crate) fn key(&self) -> &str {
        self.value["key"].as_str().unwrap_or_default()
    }

    /// The paths of every module URL (what the host loads into an iframe),
    /// without their query strings.
    pub fn module_paths(&self) -> Vec<String> {
        self.paths_of(|kind| kind != "webhooks")
    }

    /// The event whose deliveries POST to `path`.
    pub(crate) fn webhook_event(&self, path: &str) -> Option<String> {
        self.webhooks().into_iter().find(|(_, url)| url == path).map(|(event, _)| event)
    }

    /// The `webhooks` module: each event and the path its deliveries POST to.
    pub fn webhooks(&self) -> Vec<(String, String)> {
        let list = self.value["modules"]["webhooks"].as_array().into_iter().flatten();
        list.filter_map(|w| Some((w["event"].as_str()?.to_string(), w["url"].as_str()?.to_string()))).collect()
    }

    /// The module URLs of `adminPages`: only site administrators may open them.
    pub(crate) fn admin_module_paths(&self) -> Vec<String> {
        self.paths_of(|kind| kind == "adminPages")
    }

    fn paths_of(&self, kind: impl Fn(&str) -> bool) -> Vec<String> {
        let mut paths: Vec<String> = self.value["modules"]
            .as_object()
            .into_iter()
            .flat_map(|modules| modules.iter())
            .filter(|(name, _)| kind(name))
            .filter_map(|(_, list)| list.as_array())
            .flatten()
            .filter_map(|module| module["url"].as_str())
            .map(|url| url.split('?').next().unwrap_or(url).to_string())
            .collect();
        paths.sort();
        paths.dedup();
        paths
    }
}

fn check_protocol_fields(value: &Value) -> Result<()> {
    let must =
        |ok: bool, what: &str| if ok { Ok(()) } else { Err(Error::Config(format!("atlassian-connect.json: {what}"))) };
    must(value["key"].as_str().is_some_and(|k| !k.is_empty()), "needs a non-empty key")?;
    must(value["authentication"]["type"] == "jwt", "authentication.type must be jwt")?;
    must(value["apiMigrations"]["signed-install"] == true, "apiMigrations.signed-install must be true")?;
    must(value["apiMigrations"]["context-qsh"] == true, "apiMigrations.context-qsh must be true")?;
    for event in LifecycleEvent::ALL {
        let (name, path) = (event.as_str(), event.path());
        must(value["lifecycle"][name] == path, &format!("lifecycle.{name} must be {path}"))?;
    }
    must(value["scopes"].is_array(), "scopes must be a list")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_base_url_without_trailing_slash_and_keeps_template_order() {
        let d = Descriptor::render(TEMPLATE, "https://app.example.com/").unwrap();
        assert_eq!(d.value()["baseUrl"], "https://app.example.com");
        let text = String::from_utf8(d.bytes().to_vec()).unwrap();
        assert!(text.find("\"key\"").unwrap() < text.find("\"baseUrl\"").unwrap());
    }

    #[test]
    fn rendering_is_byte_stable() {
        let a = Descriptor::render(TEMPLATE, "https://app.example.com").unwrap();
        let b = Descriptor::render(TEMPLATE, "https://app.example.com").unwrap();
        assert_eq!(a.bytes(), b.bytes());
    }

    #[test]
    fn licensing_writes_enable_licensing_in_place() {
        let free = Descriptor::render(TEMPLATE, "https://app.example.com").unwrap();
        let paid = Descriptor::render_licensed(TEMPLATE, "https://app.example.com", true).unwrap();
        assert!(!free.licensing());
        assert_eq!(paid.value()["enableLicensing"], true);
        assert!(paid.licensing());
        let text = String::from_utf8(paid.bytes().to_vec()).unwrap();
        assert!(text.find("\"apiMigrations\"").unwrap() < text.find("\"enableLicensing\"").unwrap());
    }

    #[test]
    fn module_paths_are_the_iframe_pages() {
        let d = Descriptor::render(TEMPLATE, "https://app.example.com").unwrap();
        assert_eq!(d.module_paths(), ["/admin", "/app"]);
        assert_eq!(d.admin_module_paths(), ["/admin"]);
    }

    #[test]
    fn a_template_missing_a_protocol_field_is_refused() {
        let broken = TEMPLATE.replace("\"context-qsh\": true", "\"context-qsh\": false");
        let err = Descriptor::render(&broken, "https://a.example").unwrap_err();
        assert!(err.to_string().contains("context-qsh"), "{err}");
        assert!(Descriptor::render("[]", "https://a.example").is_err());
    }
}
