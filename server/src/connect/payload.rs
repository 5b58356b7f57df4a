//! The JSON body of a lifecycle callback, parsed into typed, bounded fields
//! (threat D-11: oversized values are refused before the database sees them).

use ids::{BaseUrl, ClientKey, InstallationId};
use serde::Deserialize;
use url::Url;

use super::lifecycle::LifecycleEvent;

const MAX_CLIENT_KEY: usize = 255;
const MAX_BASE_URL: usize = 2048;
const MAX_SECRET: usize = 512;
const MAX_DESCRIPTION: usize = 4096;
const MAX_FIELD: usize = 512;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    key: String,
    client_key: String,
    #[serde(default)]
    shared_secret: Option<String>,
    base_url: String,
    #[serde(default)]
    display_url: Option<String>,
    #[serde(default)]
    product_type: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    service_entitlement_number: Option<String>,
    #[serde(default)]
    oauth_client_id: Option<String>,
    #[serde(default)]
    installation_id: Option<String>,
    #[serde(default)]
    event_type: Option<String>,
}

/// A lifecycle body whose fields are present, typed and within bounds.
/// No `Debug`: it holds the shared secret.
pub(crate) struct LifecyclePayload {
    pub key: String,
    pub client_key: ClientKey,
    pub shared_secret: Option<String>,
    /// Without a trailing slash.
    pub base_url: BaseUrl,
    pub display_url: Option<String>,
    pub product_type: Option<String>,
    pub description: Option<String>,
    pub service_entitlement_number: Option<String>,
    pub oauth_client_id: Option<String>,
    pub installation_id: Option<InstallationId>,
}

impl LifecyclePayload {
    /// Parses the body of `event`'s callback; the error is a short reason for a 400.
    pub(crate) fn parse(body: &[u8], event: LifecycleEvent) -> Result<Self, &'static str> {
        let wire: Wire = serde_json::from_slice(body).map_err(|_| "malformed lifecycle payload")?;
        if wire.event_type.as_deref().is_some_and(|t| t != event.as_str()) {
            return Err("eventType does not match the callback");
        }
        bounded(&wire.client_key, MAX_CLIENT_KEY, "clientKey missing", "clientKey too long or invalid")?;
        bounded(&wire.key, MAX_FIELD, "key missing", "key too long or invalid")?;
        bounded(&wire.base_url, MAX_BASE_URL, "baseUrl missing", "baseUrl too long or invalid")?;
        let base_url = normalise_base_url(&wire.base_url)?;
        let shared_secret = wire.shared_secret.filter(|s| !s.is_empty());
        match (&shared_secret, event) {
            (Some(s), _) if s.len() > MAX_SECRET => return Err("sharedSecret too long"),
            (None, LifecycleEvent::Installed) => return Err("sharedSecret missing"),
            _ => {}
        }
        let optional =
            |value: Option<String>, max: usize, name: &'static str| -> Result<Option<String>, &'static str> {
                match value {
                    Some(v) if v.len() > max => Err(name),
                    other => Ok(other),
                }
            };
        Ok(Self {
            key: wire.key,
            client_key: ClientKey::new(wire.client_key),
            shared_secret,
            base_url: BaseUrl::new(base_url),
            display_url: optional(wire.display_url, MAX_BASE_URL, "displayUrl too long")?,
            product_type: optional(wire.product_type, MAX_FIELD, "productType too long")?,
            description: optional(wire.description, MAX_DESCRIPTION, "description too long")?,
            service_entitlement_number: optional(
                wire.service_entitlement_number,
                MAX_FIELD,
                "serviceEntitlementNumber too long",
            )?,
            oauth_client_id: optional(wire.oauth_client_id, MAX_FIELD, "oauthClientId too long")?,
            installation_id: optional(wire.installation_id, MAX_FIELD, "installationId too long")?
                .map(InstallationId::new),
        })
    }
}

fn bounded(value: &str, max: usize, missing: &'static str, invalid: &'static str) -> Result<(), &'static str> {
    if value.is_empty() {
        return Err(missing);
    }
    if value.len() > max || value.chars().any(char::is_control) {
        return Err(invalid);
    }
    Ok(())
}

/// One spelling per site, so a site import is recognised however the host
/// wrote the URL: lower-case host, no default port, no trailing slash.
fn normalise_base_url(raw: &str) -> Result<String, &'static str> {
    let url = Url::parse(raw).map_err(|_| "baseUrl is not a URL")?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("baseUrl must be an http(s) URL");
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err("baseUrl must not carry a query, fragment or credentials");
    }
    let normalised = url.as_str().trim_end_matches('/');
    // Parsing percent-encodes what it must (`{` becomes `%7B`), so the stored
    // spelling can be three times the length received: bound it again.
    if normalised.len() > MAX_BASE_URL {
        return Err("baseUrl too long or invalid");
    }
    Ok(normalised.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(overrides: serde_json::Value) -> Vec<u8> {
        let mut base = json!({
            "key": "rust-connect-app", "clientKey": "ck-1", "sharedSecret": "s", "baseUrl": "https://a.atlassian.net/",
            "productType": "jira", "description": "Atlassian JIRA", "eventType": "installed",
            "serverVersion": 100, "pluginsVersion": "1.0", "publicKey": "ignored"
        });
        if let (Some(b), Some(o)) = (base.as_object_mut(), overrides.as_object()) {
            for (k, v) in o {
                b.insert(k.clone(), v.clone());
            }
        }
        serde_json::to_vec(&base).unwrap()
    }

    #[test]
    fn a_normal_install_body_parses_and_the_base_url_loses_its_trailing_slash() {
        let p = LifecyclePayload::parse(&body(json!({})), LifecycleEvent::Installed).unwrap();
        assert_eq!(p.client_key, "ck-1");
        assert_eq!(p.base_url, "https://a.atlassian.net");
        assert_eq!(p.shared_secret.as_deref(), Some("s"));
    }

    #[test]
    fn oversized_missing_or_mistyped_fields_are_refused() {
        let cases = [
            json!({"clientKey": "k".repeat(256)}),
            json!({"baseUrl": format!("https://a.atlassian.net/{}", "p".repeat(2048))}),
            // Within the bound as received, three times over it once `{` is encoded (found by fuzzing).
            json!({"baseUrl": format!("https://a.atlassian.net/{}", "{".repeat(1000))}),
            json!({"description": "d".repeat(10_000)}),
            json!({"sharedSecret": null}),
            json!({"clientKey": ""}),
            json!({"clientKey": 12}),
            json!({"baseUrl": "javascript:alert(1)"}),
            json!({"eventType": "uninstalled"}),
        ];
        for case in cases {
            assert!(LifecyclePayload::parse(&body(case.clone()), LifecycleEvent::Installed).is_err(), "{case}");
        }
        assert!(LifecyclePayload::parse(b"not json", LifecycleEvent::Installed).is_err());
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(LifecyclePayload::parse(deep.as_bytes(), LifecycleEvent::Installed).is_err());
    }

    #[test]
    fn base_urls_are_spelled_one_way() {
        for spelling in ["https://A.atlassian.net", "https://a.atlassian.net:443/", "https://a.atlassian.net/"] {
            let p = LifecyclePayload::parse(&body(json!({"baseUrl": spelling})), LifecycleEvent::Installed).unwrap();
            assert_eq!(p.base_url, "https://a.atlassian.net", "{spelling}");
        }
        let wiki = LifecyclePayload::parse(
            &body(json!({"baseUrl": "https://A.atlassian.net/wiki/"})),
            LifecycleEvent::Installed,
        )
        .unwrap();
        assert_eq!(wiki.base_url, "https://a.atlassian.net/wiki");
        assert!(
            LifecyclePayload::parse(
                &body(json!({"baseUrl": "https://a.atlassian.net/?x=1"})),
                LifecycleEvent::Installed
            )
            .is_err()
        );
    }

    #[test]
    fn uninstall_bodies_need_no_secret() {
        let b = body(json!({"sharedSecret": null, "eventType": "uninstalled"}));
        assert!(LifecyclePayload::parse(&b, LifecycleEvent::Uninstalled).is_ok());
    }
}
