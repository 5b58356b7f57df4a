//! "Is this user an administrator of this site?", remembered for a minute:
//! admin pages and the install-status function ask on every load, and the
//! site's answer changes rarely. Who is asked (the Connect host, or the
//! product API as a Forge app) is `AppState::is_site_admin`'s business.
//! Failures are never remembered, so the next request asks again.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use ids::{AccountId, TenantId};

const ADMIN_TTL: Duration = Duration::from_secs(60);
const MAX_CACHED: usize = 10_000;

/// Recent answers per (tenant, accountId).
#[derive(Default)]
pub struct AdminCheck {
    answers: Mutex<HashMap<(TenantId, String), (bool, Instant)>>,
}

impl AdminCheck {
    /// The answer given less than a minute ago, if any.
    pub(crate) fn cached(&self, tenant_id: &TenantId, account_id: &AccountId) -> Option<bool> {
        let answers = self.answers.lock().ok()?;
        let key = (tenant_id.clone(), account_id.to_string());
        answers.get(&key).filter(|(_, at)| at.elapsed() < ADMIN_TTL).map(|(admin, _)| *admin)
    }

    pub(crate) fn remember(&self, tenant_id: &TenantId, account_id: &AccountId, admin: bool) {
        let Ok(mut answers) = self.answers.lock() else { return };
        if answers.len() >= MAX_CACHED {
            answers.retain(|_, (_, at)| at.elapsed() < ADMIN_TTL);
        }
        if answers.len() < MAX_CACHED {
            answers.insert((tenant_id.clone(), account_id.to_string()), (admin, Instant::now()));
        }
    }
}
