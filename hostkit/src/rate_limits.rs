//! Atlassian's rate limits as the fakes play them, per site: a points budget
//! for a window (Jira's tenant quota: each call costs points, and once the
//! budget is spent every call is refused until the window ends), and burst
//! refusals of the next few calls. A refusal is a 429 with `Retry-After`,
//! `RateLimit-Reason` and `X-RateLimit-Reset`, as Jira sends it. The cost
//! model is the fake's: a read costs 1 point, a write 2.

use std::collections::HashMap;

use axum::{
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

/// The seconds a burst refusal tells the app to wait.
const BURST_RETRY_AFTER_SECS: i64 = 1;

#[derive(Default)]
pub(crate) struct RateLimits {
    budgets: HashMap<String, Budget>,
    bursts: HashMap<String, u32>,
}

struct Budget {
    points: u32,
    window_secs: i64,
    window_start: i64,
    used: u32,
}

/// A refusal: how long to wait and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limited {
    pub retry_after_secs: i64,
    pub reason: &'static str,
}

impl RateLimits {
    /// `site` may spend `points` in each window of `window_secs`, from `now`.
    pub(crate) fn set_budget(&mut self, site: &str, points: u32, window_secs: i64, now: i64) {
        let budget = Budget { points, window_secs: window_secs.max(1), window_start: now, used: 0 };
        self.budgets.insert(site.to_string(), budget);
    }

    /// The next `calls` calls to `site` are refused as a burst.
    pub(crate) fn burst(&mut self, site: &str, calls: u32) {
        self.bursts.insert(site.to_string(), calls);
    }

    /// Charges one call with `method` to `site` at `now`, or refuses it.
    pub(crate) fn charge(&mut self, site: &str, method: &str, now: i64) -> Option<Limited> {
        if let Some(left) = self.bursts.get_mut(site).filter(|left| **left > 0) {
            *left -= 1;
            return Some(Limited { retry_after_secs: BURST_RETRY_AFTER_SECS, reason: "jira-burst-based" });
        }
        let budget = self.budgets.get_mut(site)?;
        if now >= budget.window_start + budget.window_secs {
            (budget.window_start, budget.used) = (now, 0);
        }
        let cost = if matches!(method, "GET" | "HEAD") { 1 } else { 2 };
        if budget.used + cost > budget.points {
            let retry_after_secs = (budget.window_start + budget.window_secs - now).max(1);
            return Some(Limited { retry_after_secs, reason: "jira-quota-tenant-based" });
        }
        budget.used += cost;
        None
    }
}

impl IntoResponse for Limited {
    fn into_response(self) -> Response {
        let reset = (crate::now() + self.retry_after_secs).to_string();
        let headers = [
            (header::RETRY_AFTER.as_str(), self.retry_after_secs.to_string()),
            ("ratelimit-reason", self.reason.to_string()),
            ("x-ratelimit-reset", reset),
        ];
        (StatusCode::TOO_MANY_REQUESTS, headers, "rate limited").into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_is_spent_by_points_and_refills_with_its_window() {
        let mut limits = RateLimits::default();
        limits.set_budget("acme", 3, 60, 1000);
        assert_eq!(limits.charge("acme", "PUT", 1000), None, "2 of 3");
        assert_eq!(limits.charge("acme", "GET", 1010), None, "3 of 3");
        let refused = limits.charge("acme", "GET", 1020).unwrap();
        assert_eq!(refused, Limited { retry_after_secs: 40, reason: "jira-quota-tenant-based" });
        assert_eq!(limits.charge("other", "GET", 1020), None, "another site is not limited");
        assert_eq!(limits.charge("acme", "GET", 1060), None, "a new window");
    }

    #[test]
    fn a_burst_refuses_the_next_calls_first() {
        let mut limits = RateLimits::default();
        limits.burst("acme", 1);
        assert_eq!(limits.charge("acme", "GET", 0).map(|l| l.reason), Some("jira-burst-based"));
        assert_eq!(limits.charge("acme", "GET", 0), None);
    }
}
