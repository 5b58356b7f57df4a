//! "Is this user an administrator of this site?", remembered for a minute:
//! admin pages and the install-status function ask on every load, and the
//! site's answer changes rarely. Who is asked (the Connect host, or the
//! product API as a Forge app) is `AppState::is_site_admin`'s business.
//! Failures are never remembered, so the next request asks again.

use std::time::Duration;

use ids::{AccountId, TenantId};
use moka::sync::Cache;

const ADMIN_TTL: Duration = Duration::from_secs(60);
const MAX_CACHED: u64 = 10_000;

/// Recent answers per (tenant, accountId).
pub struct AdminCheck {
    answers: Cache<(TenantId, String), bool>,
}

impl Default for AdminCheck {
    fn default() -> Self {
        Self { answers: Cache::builder().max_capacity(MAX_CACHED).time_to_live(ADMIN_TTL).build() }
    }
}

impl AdminCheck {
    /// The answer given less than a minute ago, if any.
    pub(crate) fn cached(&self, tenant_id: &TenantId, account_id: &AccountId) -> Option<bool> {
        self.answers.get(&(tenant_id.clone(), account_id.to_string()))
    }

    pub(crate) fn remember(&self, tenant_id: &TenantId, account_id: &AccountId, admin: bool) {
        self.answers.insert((tenant_id.clone(), account_id.to_string()), admin);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_kept_for_its_user_and_site_only() {
        let check = AdminCheck::default();
        let (site, other_site) = (TenantId::from_trusted("a"), TenantId::from_trusted("b"));
        let (admin, user) = (AccountId::new("admin"), AccountId::new("user"));
        assert_eq!(check.cached(&site, &admin), None);
        check.remember(&site, &admin, true);
        check.remember(&site, &user, false);
        assert_eq!(check.cached(&site, &admin), Some(true));
        assert_eq!(check.cached(&site, &user), Some(false));
        assert_eq!(check.cached(&other_site, &admin), None, "another site's admin is asked again");
    }
}
