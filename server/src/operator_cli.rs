//! The read-only and credential commands of the `server` binary: list and
//! show installations (never a secret), and hash an operator password.

use std::io::{BufRead, Write};

use ids::UnixTime;

use crate::{
    connect::forge_silence::SilenceLimits,
    console::hash_password,
    error::{Error, Result},
    store::{Database, event_log, forge_tokens, identities, installations, tenant_lookup, webhook_jobs},
    tenant::Product,
};

/// What `server list` prints, one line per installation, to `out`.
pub struct Listing<'a> {
    pub search: Option<&'a str>,
    pub now: UnixTime,
    pub silence: &'a SilenceLimits,
}

pub async fn list(db: &Database, listing: &Listing<'_>, out: &mut impl Write) -> Result<()> {
    let needle = listing.search.map(str::to_ascii_lowercase);
    writeln!(out, "{:<40} {:<26} {:<12} {:>4}  BASE URL", "CLIENT KEY (OR TENANT ID)", "STATE", "PRODUCT", "GEN")?;
    for i in installations::list(db).await? {
        let text = format!("{} {} {}", i.name(), i.tenant_id, i.site.base_url).to_ascii_lowercase();
        if needle.as_ref().is_some_and(|n| !text.contains(n.as_str())) {
            continue;
        }
        writeln!(
            out,
            "{:<40} {:<26} {:<12} {:>4}  {}",
            i.name(),
            i.state_label(listing.now, listing.silence),
            i.site.product.map_or("-", Product::as_str),
            i.install_generation,
            i.site.base_url
        )?;
    }
    let days = listing.silence.silent_after.as_secs() / 86_400;
    writeln!(out, "(orphaned: by a site import; silent: born on Forge, and Forge has not reached it for {days} days;")?;
    writeln!(out, " Forge silent: treated as uninstalled after Forge's long silence, back at Forge's next delivery)")?;
    Ok(())
}

/// `key` is a tenant id, a clientKey, an installationId, a cloudId, or a base URL naming
/// the site's newest active installation (seed 000: after a site import the
/// newest clientKey wins); an id the tenant had before still finds it.
pub async fn show(db: &Database, key: &str) -> Result<()> {
    let i = tenant_lookup::find_tenant(db, key).await?.ok_or(Error::NotFound)?;
    let (id, connect, forge) = (&i.tenant_id, i.connect.as_ref(), i.forge.as_ref());
    let facts = serde_json::json!({
        "tenantId": i.tenant_id, "clientKey": i.client_key(), "baseUrl": i.site.base_url,
        "displayUrl": i.site.display_url, "productType": i.site.product.map(Product::as_str),
        "description": i.site.description, "appKey": connect.and_then(|c| c.app_key.as_ref()),
        "state": i.state.to_string(),
        "installGeneration": i.install_generation, "installSignature": i.install_signature.as_str(),
        "world": i.world(),
        "installationId": i.installation_id(), "cloudId": i.site.cloud_id,
        "oauthClientId": connect.and_then(|c| c.oauth_client_id.as_ref()),
        "environment": {
            "type": forge.and_then(|f| f.environment_type.as_ref()), "id": forge.and_then(|f| f.environment_id.as_ref())
        },
        "serviceEntitlementNumber": connect.and_then(|c| c.service_entitlement_number.as_ref()),
        "secretKeyId": connect.map(|c| &c.secret.key_id),
        "firstInstalledAt": i.first_installed_at, "lastInstalledAt": i.last_installed_at,
        "lastEventAt": i.last_event_at,
        "uninstalledAt": i.uninstalled_at, "orphanedAt": i.orphaned_at,
        "forgeReachedAt": i.forge_reached_at, "givenUpAt": i.given_up_at,
        "forgeSystemTokenHeldUntil": forge_tokens::find(db, id).await?.map(|t| t.expires_at),
        "history": identities::history(db, id).await?.iter().map(|h| serde_json::json!({
            "kind": h.kind.as_str(), "value": h.value, "firstSeen": h.first_seen, "lastSeen": h.last_seen,
        })).collect::<Vec<_>>(),
        "events": event_log::for_tenant(db, id, 50).await?,
    });
    println!("{}", serde_json::to_string_pretty(&facts).unwrap_or_default());
    Ok(())
}

/// The webhook queue by state, as one JSON object (`{"done": 12, "queued": 1}`).
pub async fn webhooks(db: &Database) -> Result<()> {
    let counts: serde_json::Map<String, serde_json::Value> =
        webhook_jobs::counts(db).await?.into_iter().map(|(state, n)| (state.as_str().to_string(), n.into())).collect();
    println!("{}", serde_json::Value::Object(counts));
    Ok(())
}

/// Reads the password from standard input (one line) and prints the lines
/// to put in the app's environment.
pub fn create_operator(name: &str) -> Result<()> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::BadRequest("an operator name is one word".into()));
    }
    eprintln!("Password for {name} (at least {} characters), then Enter:", crate::console::MIN_PASSWORD_LEN);
    let mut password = String::new();
    std::io::stdin().lock().read_line(&mut password)?;
    let hash = hash_password(password.trim_end_matches(['\n', '\r']))?;
    println!("OPERATOR_USER={name}");
    println!("OPERATOR_PASSWORD_HASH='{hash}'");
    Ok(())
}
