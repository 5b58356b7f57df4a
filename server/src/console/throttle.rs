//! Login throttling: after a few failures in a window, a key (the client's
//! address, or the attempted operator name) must wait. In memory, per
//! instance: enough to make online guessing hopeless.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

const MAX_FAILURES: u32 = 5;
const WINDOW: Duration = Duration::from_secs(15 * 60);
const MAX_KEYS: usize = 10_000;

#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginThrottle {
    /// How long `keys` must wait, if any of them is over the limit.
    pub fn wait(&self, keys: &[String]) -> Option<Duration> {
        let failures = self.failures.lock().ok()?;
        keys.iter()
            .filter_map(|k| failures.get(k))
            .filter(|(count, since)| *count >= MAX_FAILURES && since.elapsed() < WINDOW)
            .map(|(_, since)| WINDOW.saturating_sub(since.elapsed()))
            .max()
    }

    pub fn failed(&self, keys: &[String]) {
        let Ok(mut failures) = self.failures.lock() else { return };
        if failures.len() >= MAX_KEYS {
            failures.retain(|_, (_, since)| since.elapsed() < WINDOW);
        }
        for key in keys {
            let entry = failures.entry(key.clone()).or_insert((0, Instant::now()));
            if entry.1.elapsed() >= WINDOW {
                *entry = (0, Instant::now());
            }
            entry.0 += 1;
        }
    }

    pub fn succeeded(&self, keys: &[String]) {
        if let Ok(mut failures) = self.failures.lock() {
            for key in keys {
                failures.remove(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sixth_attempt_waits_and_a_success_clears_the_count() {
        let throttle = LoginThrottle::default();
        let keys = vec!["ip:1".to_string()];
        for _ in 0..MAX_FAILURES {
            assert!(throttle.wait(&keys).is_none());
            throttle.failed(&keys);
        }
        assert!(throttle.wait(&keys).is_some_and(|d| d > Duration::from_secs(60)));
        throttle.succeeded(&keys);
        assert!(throttle.wait(&keys).is_none());
    }
}
