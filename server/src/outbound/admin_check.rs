//! "Is this user an administrator of this site?", asked of the host and
//! remembered for a minute: admin pages and the install-status function ask
//! on every load, and the host's answer changes rarely. Failures are never
//! remembered, so the next request asks again.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use super::{
    host_api,
    host_client::{HostClient, HostError},
};
use crate::{secrets::SharedSecret, store::Installation};

const ADMIN_TTL: Duration = Duration::from_secs(60);
const MAX_CACHED: usize = 10_000;

/// Recent answers per (clientKey, accountId).
#[derive(Default)]
pub struct AdminCheck {
    answers: Mutex<HashMap<(String, String), (bool, Instant)>>,
}

impl AdminCheck {
    /// Anonymous users are never administrators.
    pub(crate) async fn is_admin(
        &self,
        client: &HostClient,
        installation: &Installation,
        secret: &SharedSecret,
        account_id: Option<&str>,
        now: i64,
    ) -> Result<bool, HostError> {
        let Some(account_id) = account_id else { return Ok(false) };
        let key = (installation.client_key.clone(), account_id.to_string());
        if let Some(admin) = self.get(&key) {
            return Ok(admin);
        }
        let admin = host_api::is_site_admin(client, installation, secret, account_id, now).await?;
        self.put(key, admin);
        Ok(admin)
    }

    fn get(&self, key: &(String, String)) -> Option<bool> {
        let answers = self.answers.lock().ok()?;
        answers.get(key).filter(|(_, at)| at.elapsed() < ADMIN_TTL).map(|(admin, _)| *admin)
    }

    fn put(&self, key: (String, String), admin: bool) {
        let Ok(mut answers) = self.answers.lock() else { return };
        if answers.len() >= MAX_CACHED {
            answers.retain(|_, (_, at)| at.elapsed() < ADMIN_TTL);
        }
        if answers.len() < MAX_CACHED {
            answers.insert(key, (admin, Instant::now()));
        }
    }
}
