//! Things happening on the fake sites (an issue created or edited, a page
//! created or edited) and the webhooks they fire, sent to the URLs of the
//! app's own descriptor the way Jira sends them: retried with the same
//! identifier and `X-Atlassian-Webhook-Retry` after a 408, 409, 425, 429,
//! 5xx or a timeout, and listed as failed when every try failed.

use std::time::Duration;

use serde_json::Value;

use super::FakeHost;
use crate::{payload, random_hex};

/// Jira retries for about 30 minutes; the fake host retries three times, quickly.
const RETRY_DELAYS: [Duration; 3] =
    [Duration::from_millis(300), Duration::from_millis(600), Duration::from_millis(1200)];

/// What became of one delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub site: String,
    pub event: String,
    pub delivery_id: String,
    /// The answer of each try, 0 for a timeout or a refused connection.
    pub statuses: Vec<u16>,
}

impl Delivery {
    pub fn delivered(&self) -> bool {
        self.statuses.last().is_some_and(|s| (200..300).contains(s))
    }
}

impl FakeHost {
    /// Something happens on `site` (`create-issue`, `edit-issue`,
    /// `create-page`, `edit-page`): the matching webhook is delivered.
    pub async fn product_event(&self, site: &str, what: &str) -> Result<Delivery, String> {
        let s = self.site(site).ok_or("no such site")?;
        let actor = s.users.keys().next().cloned().unwrap_or_else(|| "someone".into());
        let inner_counter = || {
            let mut inner = self.lock();
            inner.entity_counter += 1;
            inner.entity_counter
        };
        let (event, body) = match what {
            "create-issue" => {
                let n = inner_counter();
                let key = format!("{}-{n}", site.to_ascii_uppercase());
                self.lock().last_issue.insert(site.to_string(), key.clone());
                ("jira:issue_created", payload::issue_event("jira:issue_created", &key, "A new issue", &actor))
            }
            "edit-issue" => {
                let key = self
                    .lock()
                    .last_issue
                    .get(site)
                    .cloned()
                    .unwrap_or_else(|| format!("{}-1", site.to_ascii_uppercase()));
                ("jira:issue_updated", payload::issue_event("jira:issue_updated", &key, "An edited issue", &actor))
            }
            "create-page" => {
                let id = 100 + inner_counter() as i64;
                ("page_created", payload::page_event("page_created", id, "A new page", &actor))
            }
            "edit-page" => ("page_updated", payload::page_event("page_updated", 101, "An edited page", &actor)),
            other => return Err(format!("nothing called {other:?} happens here")),
        };
        self.deliver_webhook(site, event, &body).await
    }

    /// Delivers `event` with `body` to the app's webhook URL for it, retrying
    /// as Jira does (Confluence does not retry).
    pub async fn deliver_webhook(&self, site: &str, event: &str, body: &Value) -> Result<Delivery, String> {
        let tenant = self.tenant(site).ok_or("no such site")?;
        let path = self.webhook_path(event).await?;
        let delivery_id = format!("{}-{}", random_hex(4), random_hex(8));
        let retries = if tenant.product_type == "confluence" { &RETRY_DELAYS[..0] } else { &RETRY_DELAYS[..] };
        let mut delivery =
            Delivery { site: site.into(), event: event.into(), delivery_id: delivery_id.clone(), statuses: vec![] };
        for attempt in 0..=retries.len() {
            if attempt > 0 {
                tokio::time::sleep(retries[attempt - 1]).await;
            }
            let answer = self.host.send_webhook(&tenant, &path, body, &delivery_id, attempt as u32).await;
            let status = answer.map(|r| r.status().as_u16()).unwrap_or(0);
            delivery.statuses.push(status);
            if !matches!(status, 0 | 408 | 409 | 425 | 429 | 500..=599) {
                break;
            }
        }
        self.lock().deliveries.push(delivery.clone());
        Ok(delivery)
    }

    /// Every delivery so far, oldest first.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.lock().deliveries.clone()
    }

    /// The URL the app's descriptor gives for `event`, as Atlassian reads it.
    async fn webhook_path(&self, event: &str) -> Result<String, String> {
        let url = format!("{}/atlassian-connect.json", self.app_base_url);
        let descriptor: Value = async { reqwest::get(&url).await?.json().await }
            .await
            .map_err(|e| format!("cannot read the app's descriptor: {e}"))?;
        let hooks = descriptor["modules"]["webhooks"].as_array().cloned().unwrap_or_default();
        hooks
            .iter()
            .find(|w| w["event"] == event)
            .and_then(|w| w["url"].as_str().map(str::to_string))
            .ok_or_else(|| format!("the app's descriptor has no webhook for {event}"))
    }
}
