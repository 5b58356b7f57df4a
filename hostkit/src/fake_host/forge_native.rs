//! The fake host playing a Forge-native site: the app is a new Forge app
//! there and the site never sends a Connect install. Forge's `installed`
//! event (a FIT of the installed trigger, with a system token) is all the
//! app hears; then Forge's product events (retried as Forge retries, and
//! resent as its at-least-once delivery may), reinstalls, a site rename
//! (the next FIT names the new `siteUrl`), a second installation of the
//! app's development environment beside production, and `preUninstall`.

use serde_json::Value;

use super::{FakeHost, product_events::Delivery};
use crate::{
    forge::{ForgeInstall, RETRY_DELAYS, SYSTEM_TOKEN_TTL_SECS},
    payload, random_hex,
};

/// Where Forge delivers product events (the manifest's `events-endpoint`).
const PRODUCT_EVENTS_PATH: &str = "/forge/events/product";

impl FakeHost {
    /// Adds a site that will know the app through Forge alone.
    pub fn add_native_site(&self, name: &str, product: &str) {
        self.insert_site(name, product, true);
    }

    /// Installs the app on a Forge-native site: a new installation in the
    /// app's production environment, announced by Forge's `installed` event
    /// alone. The site's users become known to the product API.
    pub async fn forge_install(&self, site: &str) -> Result<u16, String> {
        let forge = self.forge_side()?;
        let s = self.site(site).ok_or("no such site")?;
        let api_base = forge.api.base(&s.tenant.product_type, &s.cloud_id);
        let install = ForgeInstall {
            site_url: s.tenant.base_url.clone(),
            ..ForgeInstall::new(&forge.app_id, &s.cloud_id, &api_base)
        };
        for (account, user) in self.users(site) {
            forge.api.add_user(&s.cloud_id, &account, &user.display_name, user.admin);
        }
        self.set_forge(site, Some(install));
        let status = self.forge_event(site, "installed").await?;
        self.set_installed(site, (200..300).contains(&status));
        self.save();
        Ok(status)
    }

    /// The app's development environment installed on the same site: another
    /// installation (and so, for the app, another tenant) beside production.
    pub async fn forge_install_development(&self, site: &str) -> Result<u16, String> {
        let s = self.site(site).ok_or("no such site")?;
        let production = s.forge.ok_or("install the app first")?;
        let development = production.in_environment("DEVELOPMENT");
        if let Some(s) = self.lock().sites.get_mut(site) {
            s.forge_dev = Some(development.clone());
        }
        let status = self.forge_event_for(&development, "installed").await?;
        self.save();
        Ok(status)
    }

    /// The Forge-native sites where the app is meant to be installed.
    pub fn native_sites(&self) -> Vec<String> {
        let native = |name: &String| self.site(name).is_some_and(|s| s.native && (s.installed || s.forge.is_none()));
        self.site_names().into_iter().filter(native).collect()
    }

    pub fn site_is_native(&self, site: &str) -> bool {
        self.site(site).is_some_and(|s| s.native)
    }

    /// The site's development installation, once installed.
    pub fn site_forge_development(&self, site: &str) -> Option<ForgeInstall> {
        self.site(site).and_then(|s| s.forge_dev)
    }

    /// The site is renamed: a new URL, which Forge names as `siteUrl` in the
    /// FIT of every page call from now on (a trigger's FIT has no `context`);
    /// the hourly trigger follows.
    pub async fn forge_rename(&self, site: &str) -> Result<u16, String> {
        let renamed = format!("{}/{site}-{}", self.url, random_hex(2));
        let install = {
            let mut inner = self.lock();
            let s = inner.sites.get_mut(site).ok_or("no such site")?;
            s.tenant.base_url = renamed;
            let install = s.forge.as_mut().ok_or("the site is not on Forge")?;
            install.site_url = s.tenant.base_url.clone();
            install.clone()
        };
        let status = self.forge_event_for(&install, "hourly").await?;
        self.save();
        Ok(status)
    }

    /// Forge uninstalls the app: its `preUninstall` hook, the only signal a remote gets.
    pub async fn forge_uninstall(&self, site: &str) -> Result<u16, String> {
        let status = self.forge_event(site, "pre-uninstall").await?;
        self.set_installed(site, false);
        self.save();
        Ok(status)
    }

    /// Something happens on a site on Forge (`create-issue`, `edit-issue`,
    /// `comment-issue`, `edit-comment`, `create-page`, `edit-page`): Forge's product event
    /// to the app, retried after a failed answer, then resent `resends` more
    /// times with a `retryContext`, as Forge may after a timeout.
    pub async fn forge_product_event(&self, site: &str, what: &str, resends: u32) -> Result<Delivery, String> {
        let forge = self.forge_side()?;
        let s = self.site(site).ok_or("no such site")?;
        let install = s.forge.clone().ok_or("the site is not on Forge")?;
        let actor = s.users.keys().next().cloned().unwrap_or_else(|| "someone".into());
        let event = self.forge_event_body(site, what, &actor)?;
        let event_type = event["eventType"].as_str().unwrap_or_default().to_string();
        let url = format!("{}{PRODUCT_EVENTS_PATH}", self.app_base_url);
        let token = forge.api.system_token(&install.cloud_id, SYSTEM_TOKEN_TTL_SECS);
        let mut delivery = Delivery {
            site: site.into(),
            event: event_type,
            delivery_id: format!("forge-{}", random_hex(6)),
            statuses: vec![],
        };
        let mut attempt = 0;
        loop {
            let answer = forge.jwks.deliver_product_event(&url, &install, &event, Some(&token), attempt).await;
            delivery.statuses.push(answer.map(|r| r.status().as_u16()).unwrap_or(0));
            let failed = !delivery.delivered();
            let retries_left = attempt < RETRY_DELAYS.len() as u32 && failed;
            if !retries_left && attempt >= resends {
                break;
            }
            if failed {
                tokio::time::sleep(RETRY_DELAYS[(attempt as usize).min(RETRY_DELAYS.len() - 1)]).await;
            }
            attempt += 1;
        }
        self.lock().deliveries.push(delivery.clone());
        Ok(delivery)
    }

    fn forge_event_body(&self, site: &str, what: &str, actor: &str) -> Result<Value, String> {
        let next = || {
            let mut inner = self.lock();
            inner.entity_counter += 1;
            inner.entity_counter
        };
        let issue_key = |fresh: bool| {
            let last = self.lock().last_issue.get(site).cloned();
            let key = match (fresh, last) {
                (false, Some(key)) => key,
                _ => format!("{}-{}", site.to_ascii_uppercase(), next()),
            };
            self.lock().last_issue.insert(site.to_string(), key.clone());
            key
        };
        Ok(match what {
            "create-issue" => {
                payload::forge_issue_event("avi:jira:created:issue", &issue_key(true), "A new issue", actor)
            }
            "edit-issue" => {
                payload::forge_issue_event("avi:jira:updated:issue", &issue_key(false), "An edited issue", actor)
            }
            "comment-issue" => {
                payload::forge_issue_event("avi:jira:commented:issue", &issue_key(false), "A commented issue", actor)
            }
            "edit-comment" => payload::forge_comment_edit(&issue_key(false), actor),
            "create-page" => {
                payload::forge_page_event("avi:confluence:created:page", 100 + next() as i64, "A new page", actor)
            }
            "edit-page" => payload::forge_page_event("avi:confluence:updated:page", 101, "An edited page", actor),
            other => return Err(format!("nothing called {other:?} happens here")),
        })
    }
}
