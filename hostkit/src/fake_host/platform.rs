//! What Atlassian's platform does to the app's calls, as the fake host plays
//! it through Connect and Forge alike: rate limits (`crate::rate_limits`: a
//! site told to refuse its next calls, or given a points budget, answers 429
//! with `Retry-After`) and the personal data reporting API
//! (`crate::personal_data`: closed and updated accounts).

use axum::response::{IntoResponse, Response};

use super::FakeHost;

impl FakeHost {
    /// The next `calls` REST calls the app makes to `site` are answered 429
    /// (`RateLimit-Reason: jira-burst-based`, `Retry-After: 1`).
    pub fn rate_limit(&self, site: &str, calls: u32) {
        self.lock().rate_limits.burst(site, calls);
        if let (Some(forge), Some(s)) = (&self.forge, self.site(site)) {
            forge.api.rate_limit(&s.cloud_id, calls);
        }
    }

    /// `site` may spend `points` a window of `window_secs` (a read costs 1,
    /// a write 2); past it every call is answered 429 until the window ends
    /// (`RateLimit-Reason: jira-quota-tenant-based`), through Connect and Forge alike.
    pub fn points_budget(&self, site: &str, points: u32, window_secs: i64) {
        self.lock().rate_limits.set_budget(site, points, window_secs, crate::now());
        if let (Some(forge), Some(s)) = (&self.forge, self.site(site)) {
            forge.api.points_budget(&s.cloud_id, points, window_secs);
        }
    }

    /// Closes the Atlassian account `account_id`: the next personal data
    /// report naming it, through Connect or Forge, hears `closed`.
    pub fn close_account(&self, account_id: &str) {
        self.lock().accounts.close(account_id);
        if let Some(forge) = &self.forge {
            forge.api.close_account(account_id);
        }
    }

    /// The account's personal data changed now: a report with an older `updatedAt` hears `updated`.
    pub fn update_account(&self, account_id: &str) {
        self.lock().accounts.update(account_id);
        if let Some(forge) = &self.forge {
            forge.api.update_account(account_id);
        }
    }

    /// Each personal data report the app made, Connect's (by site) then Forge's (by cloudId),
    /// with how many accounts it named.
    pub fn personal_data_reports(&self) -> Vec<(String, usize)> {
        let mut reports = self.lock().accounts.reports.clone();
        if let Some(forge) = &self.forge {
            reports.extend(forge.api.personal_data_reports());
        }
        reports
    }
}

/// A 429 for `site`, if its limits refuse this call.
pub(super) fn limited(host: &FakeHost, site: &str, method: &str) -> Option<Response> {
    host.lock().rate_limits.charge(site, method, crate::now()).map(IntoResponse::into_response)
}
