//! What both site clients make of an answer: an empty body (a 204 to a
//! DELETE or a PUT) is JSON `null`, not a broken answer; and Atlassian's
//! rate limits (429 with `Retry-After` and `RateLimit-Reason`, a 503 with
//! `Retry-After`): a page's call waits one out a bounded number of times, a
//! few seconds at most each, with jitter and never before `Retry-After`; a
//! webhook handler's call never waits (its job is put back at `Retry-After`
//! instead, `webhooks::worker`). A 503 is waited out only for a method that
//! may safely be sent twice. Pure.

use std::time::Duration;

use reqwest::{Method, header::HeaderMap};
use serde_json::Value;

/// Retries of a rate-limited call, at most.
pub(crate) const RATE_LIMIT_RETRIES: usize = 2;
/// The longest wait for one retry, whatever `Retry-After` says: longer than
/// that, the caller (a page) is better off hearing 429.
const MAX_WAIT: Duration = Duration::from_secs(5);
/// Without `Retry-After`, about a second, then two (Atlassian: 2, 4, 8, … with jitter; a page cannot wait that long).
const DEFAULT_WAITS: [Duration; RATE_LIMIT_RETRIES] = [Duration::from_secs(1), Duration::from_secs(2)];
/// Jitter adds up to this share to a wait (Atlassian suggests 0.7 to 1.3;
/// never less than `Retry-After`), so limited callers do not all come back at once.
const JITTER: f64 = 0.3;
/// The longest `RateLimit-Reason` kept (Atlassian's are about 30 characters).
const MAX_REASON_LEN: usize = 64;

/// What Atlassian said when it limited a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub status: u16,
    /// `Retry-After` in whole seconds (an HTTP date counts as absent).
    pub retry_after: Option<Duration>,
    /// `RateLimit-Reason`: `jira-burst-based`, `jira-per-issue-on-write`,
    /// `jira-quota-tenant-based`, `jira-quota-global-based`, Confluence's `confluence-quota-…`.
    pub reason: Option<String>,
}

impl RateLimit {
    /// The rate limit an answer to `method` with `status` says, if it is one:
    /// any 429, or a 503 with `Retry-After` to a method that may be repeated.
    pub(crate) fn of(method: &Method, status: u16, headers: &HeaderMap) -> Option<Self> {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let retry_after = header("retry-after").and_then(|v| v.trim().parse::<u64>().ok()).map(Duration::from_secs);
        let repeatable = !matches!(*method, Method::POST | Method::PATCH);
        let limited = status == 429 || (status == 503 && retry_after.is_some() && repeatable);
        let reason = header("ratelimit-reason").map(|r| r.chars().take(MAX_REASON_LEN).collect());
        limited.then_some(Self { status, retry_after, reason })
    }

    /// The reason as a metric label: one of Atlassian's, else `other` (a
    /// header cannot grow the metric's label set).
    pub(crate) fn reason_label(&self) -> &'static str {
        const KNOWN: [&str; 7] = [
            "jira-burst-based",
            "jira-per-issue-on-write",
            "jira-quota-tenant-based",
            "jira-quota-global-based",
            "confluence-quota-tenant-based",
            "confluence-quota-global-based",
            "confluence-burst-based",
        ];
        match self.reason.as_deref() {
            None => "none",
            Some(reason) => KNOWN.into_iter().find(|k| *k == reason).unwrap_or("other"),
        }
    }
}

impl std::fmt::Display for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.reason.as_deref().unwrap_or("no reason given"))
    }
}

/// How a caller meets a rate limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Patience {
    /// A person waits: retry a few times, a few seconds at most each.
    Retry,
    /// A queued job: hear the limit at once, and be put back at `Retry-After`.
    Defer,
}

/// The JSON of a successful answer's body; `null` for an empty one.
pub(crate) fn json_of(body: &[u8]) -> Option<Value> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Some(Value::Null);
    }
    serde_json::from_slice(body).ok()
}

/// How long to wait before retrying a call `limit` refused, when `retried`
/// retries were made already; `jitter` is a random number in [0, 1).
/// None: do not retry (hear the limit).
pub(crate) fn rate_limit_wait(limit: &RateLimit, patience: Patience, retried: usize, jitter: f64) -> Option<Duration> {
    if patience == Patience::Defer || retried >= RATE_LIMIT_RETRIES {
        return None;
    }
    let base = limit.retry_after.unwrap_or(DEFAULT_WAITS[retried]);
    let wait = base.mul_f64(1.0 + JITTER * jitter.clamp(0.0, 1.0));
    (base <= MAX_WAIT).then_some(wait.min(MAX_WAIT.mul_f64(1.0 + JITTER)))
}

/// Counts a limit Atlassian answered with, by world and reason.
pub(crate) fn count(world: &'static str, limit: &RateLimit) {
    metrics::counter!("site_rate_limited_total", "world" => world, "reason" => limit.reason_label()).increment(1);
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (reqwest::header::HeaderName::from_static(k), HeaderValue::from_static(v))).collect()
    }

    fn limit(retry_after: Option<u64>) -> RateLimit {
        RateLimit { status: 429, retry_after: retry_after.map(Duration::from_secs), reason: None }
    }

    #[test]
    fn an_empty_body_is_null_and_a_broken_one_is_refused() {
        assert_eq!(json_of(b""), Some(Value::Null));
        assert_eq!(json_of(b" \n"), Some(Value::Null));
        assert_eq!(json_of(br#"{"id":"1"}"#), Some(serde_json::json!({ "id": "1" })));
        assert_eq!(json_of(b"<html>"), None);
    }

    #[test]
    fn a_rate_limit_is_read_from_the_answer() {
        let burst = headers(&[("retry-after", "3"), ("ratelimit-reason", "jira-burst-based")]);
        let limit = RateLimit::of(&Method::GET, 429, &burst).unwrap();
        assert_eq!(limit.retry_after, Some(Duration::from_secs(3)));
        assert_eq!(limit.reason_label(), "jira-burst-based");
        let odd = RateLimit::of(&Method::GET, 429, &headers(&[("ratelimit-reason", "made-up")])).unwrap();
        assert_eq!((odd.retry_after, odd.reason_label()), (None, "other"));
        let date = headers(&[("retry-after", "Wed, 21 Oct 2026 07:28:00 GMT")]);
        assert_eq!(RateLimit::of(&Method::GET, 429, &date).unwrap().retry_after, None);
        assert!(RateLimit::of(&Method::GET, 503, &headers(&[("retry-after", "2")])).is_some());
        assert!(RateLimit::of(&Method::GET, 503, &headers(&[])).is_none(), "an outage is not a rate limit");
        assert!(RateLimit::of(&Method::POST, 503, &burst).is_none(), "a POST may have been done: not twice");
        assert!(RateLimit::of(&Method::POST, 429, &burst).is_some(), "a 429 was refused before anything was done");
        assert!(RateLimit::of(&Method::GET, 500, &burst).is_none());
    }

    #[test]
    fn a_page_waits_a_limit_out_twice_within_bounds_and_never_early() {
        let retry = Patience::Retry;
        assert_eq!(rate_limit_wait(&limit(Some(3)), retry, 0, 0.0), Some(Duration::from_secs(3)));
        assert_eq!(rate_limit_wait(&limit(Some(3)), retry, 0, 0.5), Some(Duration::from_millis(3450)));
        assert_eq!(rate_limit_wait(&limit(None), retry, 0, 0.0), Some(Duration::from_secs(1)));
        assert_eq!(rate_limit_wait(&limit(None), retry, 1, 0.99), Some(Duration::from_millis(2594)));
        assert_eq!(rate_limit_wait(&limit(Some(1)), retry, 2, 0.0), None, "twice at most");
        assert_eq!(rate_limit_wait(&limit(Some(60)), retry, 0, 0.0), None, "longer than a page can wait: 429 it is");
        assert_eq!(rate_limit_wait(&limit(Some(5)), retry, 0, 1.0), Some(Duration::from_millis(6500)));
    }

    #[test]
    fn a_queued_job_never_waits_in_place() {
        assert_eq!(rate_limit_wait(&limit(Some(1)), Patience::Defer, 0, 0.0), None);
    }
}
