//! What both site clients make of an answer: an empty body (a 204 to a
//! DELETE or a PUT) is JSON `null`, not a broken answer; and Atlassian's rate
//! limit is waited out a bounded number of times, a few seconds at most
//! each: a 429 (refused before anything was done) for any method, a 503
//! with `Retry-After` only for a method that may safely be sent twice. Pure.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

/// Retries of a rate-limited call, at most.
pub(crate) const RATE_LIMIT_RETRIES: usize = 2;
/// The longest wait for one retry, whatever `Retry-After` says: longer than
/// that, the caller (a page, a handler with its own retries) is better off
/// hearing 429.
const MAX_WAIT: Duration = Duration::from_secs(5);
/// Without `Retry-After`, a second, then two.
const DEFAULT_WAITS: [Duration; RATE_LIMIT_RETRIES] = [Duration::from_secs(1), Duration::from_secs(2)];

/// The JSON of a successful answer's body; `null` for an empty one.
pub(crate) fn json_of(body: &[u8]) -> Option<Value> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Some(Value::Null);
    }
    serde_json::from_slice(body).ok()
}

/// How long to wait before retrying an answer to `method` with `status` and
/// the `Retry-After` header `retry_after` (whole seconds; an HTTP date counts
/// as absent), when `retried` retries were made already; None: do not retry.
pub(crate) fn rate_limit_wait(
    method: &Method,
    status: u16,
    retry_after: Option<&str>,
    retried: usize,
) -> Option<Duration> {
    let seconds = retry_after.and_then(|v| v.trim().parse::<u64>().ok()).map(Duration::from_secs);
    let repeatable = !matches!(*method, Method::POST | Method::PATCH);
    let limited = status == 429 || (status == 503 && seconds.is_some() && repeatable);
    if !limited || retried >= RATE_LIMIT_RETRIES {
        return None;
    }
    let wait = seconds.unwrap_or(DEFAULT_WAITS[retried]);
    (wait <= MAX_WAIT).then_some(wait)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_body_is_null_and_a_broken_one_is_refused() {
        assert_eq!(json_of(b""), Some(Value::Null));
        assert_eq!(json_of(b" \n"), Some(Value::Null));
        assert_eq!(json_of(br#"{"id":"1"}"#), Some(serde_json::json!({ "id": "1" })));
        assert_eq!(json_of(b"<html>"), None);
    }

    #[test]
    fn a_rate_limit_is_waited_out_twice_within_bounds() {
        assert_eq!(rate_limit_wait(&Method::GET, 429, Some("3"), 0), Some(Duration::from_secs(3)));
        assert_eq!(rate_limit_wait(&Method::GET, 429, None, 0), Some(Duration::from_secs(1)));
        assert_eq!(rate_limit_wait(&Method::GET, 429, None, 1), Some(Duration::from_secs(2)));
        assert_eq!(rate_limit_wait(&Method::GET, 429, Some("1"), 2), None, "twice at most");
        assert_eq!(rate_limit_wait(&Method::GET, 429, Some("60"), 0), None, "longer than a caller can wait: 429 it is");
        assert_eq!(rate_limit_wait(&Method::GET, 503, Some("2"), 0), Some(Duration::from_secs(2)));
        assert_eq!(
            rate_limit_wait(&Method::GET, 503, None, 0),
            None,
            "an outage without Retry-After is not a rate limit"
        );
        assert_eq!(rate_limit_wait(&Method::POST, 503, Some("2"), 0), None, "a POST may have been done: not twice");
        assert_eq!(rate_limit_wait(&Method::POST, 429, Some("2"), 0), Some(Duration::from_secs(2)));
        assert_eq!(rate_limit_wait(&Method::GET, 500, Some("1"), 0), None);
        assert_eq!(
            rate_limit_wait(&Method::GET, 429, Some("Wed, 21 Oct 2026 07:28:00 GMT"), 0),
            Some(Duration::from_secs(1))
        );
    }
}
