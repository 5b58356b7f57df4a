//! The fake host playing Forge (Connect-on-Forge): moving a site onto Forge
//! (a signed Connect install that carries an installationId, then Forge's
//! `installed` event with a system token), Forge's lifecycle events and
//! scheduled trigger to the endpoints the app's manifest names. Its Custom
//! UI pages are in `custom_ui`.

use std::time::Duration;

use super::FakeHost;
use crate::{
    ProductApi,
    forge::{self, ForgeInstall, ForgeJwks, RETRY_DELAYS, SYSTEM_TOKEN_TTL_SECS},
};

/// Forge's side of the fake host: its JWKS, the product API its tokens
/// call, and the app's Forge id (`FORGE_APP_ID`).
#[derive(Clone)]
pub struct ForgeSide {
    pub jwks: ForgeJwks,
    pub api: ProductApi,
    pub app_id: String,
}

/// The endpoints the app's manifest declares (`server forge-manifest`).
const INSTALLED: (&str, &str) = ("/forge/events/installed", "avi:forge:installed:app");
const UPGRADED: (&str, &str) = ("/forge/events/upgraded", "avi:forge:upgraded:app");
const PRE_UNINSTALL: (&str, &str) = ("/forge/events/pre-uninstall", "preUninstall");
const HOURLY: (&str, &str) = ("/forge/scheduled/hourly", "scheduledTrigger");

impl FakeHost {
    pub(crate) fn forge_side(&self) -> Result<&ForgeSide, String> {
        self.forge.as_ref().ok_or_else(|| "this fake host does not play Forge".to_string())
    }

    /// Moves `site` onto Forge: a new Forge installation, joined by the signed
    /// Connect install that carries its installationId, then Forge's
    /// `installed` event. Returns the two answers, "install → event".
    pub async fn move_to_forge(&self, site: &str) -> Result<String, String> {
        let forge = self.forge_side()?;
        let s = self.site(site).ok_or("no such site")?;
        let api_base = forge.api.base(&s.tenant.product_type, &s.cloud_id);
        let install = ForgeInstall::new(&forge.app_id, &s.cloud_id, &api_base);
        let tenant = crate::Tenant { installation_id: Some(install.installation_id.clone()), ..s.tenant.clone() };
        let signed = self.host.install(&tenant).await.status().as_u16();
        if !(200..300).contains(&signed) {
            return Err(format!("the signed install answered {signed}"));
        }
        self.set_tenant(site, tenant);
        self.set_forge(site, Some(install));
        let event = self.forge_event(site, "installed").await?;
        self.save();
        Ok(format!("install {signed} → Forge installed {event}"))
    }

    /// Sends a Forge delivery (`installed`, `upgraded`, `pre-uninstall`,
    /// `hourly`) for `site`, with a fresh system token except on preUninstall.
    pub async fn forge_event(&self, site: &str, which: &str) -> Result<u16, String> {
        let s = self.site(site).ok_or("no such site")?;
        let install = s.forge.ok_or("the site is not on Forge")?;
        self.forge_event_for(&install, which).await
    }

    /// As [`FakeHost::forge_event`], for one installation of the app.
    pub(crate) async fn forge_event_for(&self, install: &ForgeInstall, which: &str) -> Result<u16, String> {
        let forge = self.forge_side()?;
        let (path, event_type) = match which {
            "installed" => INSTALLED,
            "upgraded" => UPGRADED,
            "pre-uninstall" => PRE_UNINSTALL,
            "hourly" => HOURLY,
            other => return Err(format!("no Forge event {other:?}")),
        };
        let module = forge::modules::of_event(event_type);
        let token =
            (which != "pre-uninstall").then(|| forge.api.system_token(&install.cloud_id, SYSTEM_TOKEN_TTL_SECS));
        let url = format!("{}{path}", self.app_base_url);
        let (event, fit) = (forge::lifecycle_event(install, event_type), forge.jwks.fit_of(install, module, None));
        let mut status = 0;
        // Forge retries anything but a 2xx, or no answer within 5 s, four times.
        for (retry, delay) in (0..).zip(std::iter::once(&Duration::ZERO).chain(&RETRY_DELAYS)) {
            tokio::time::sleep(*delay).await;
            let answer = forge.jwks.post_delivery(&url, &fit, event.clone(), token.as_deref(), retry).await;
            status = answer.map(|r| r.status().as_u16()).unwrap_or(0);
            if (200..300).contains(&status) {
                break;
            }
        }
        Ok(status)
    }

    /// A Forge reinstall: a new installationId for the site, joined by
    /// Forge's `installed` event alone (no Connect callback).
    pub async fn forge_reinstall(&self, site: &str) -> Result<u16, String> {
        let s = self.site(site).ok_or("no such site")?;
        let old = s.forge.ok_or("the site is not on Forge")?;
        let install = ForgeInstall { installation_id: forge::installation_id(), ..old };
        self.set_forge(site, Some(install));
        let status = self.forge_event(site, "installed").await?;
        self.save();
        Ok(status)
    }
}
