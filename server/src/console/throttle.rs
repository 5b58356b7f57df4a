//! Login throttling: after a few attempts in a window without a success, a key (the client's
//! address) must wait. In memory, per instance: enough to make online guessing hopeless.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

const MAX_FAILURES: u32 = 5;
const WINDOW: Duration = Duration::from_secs(15 * 60);
const MAX_KEYS: usize = 10_000;

#[derive(Default)]
pub(crate) struct LoginThrottle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginThrottle {
    /// Counts an attempt for every key, or says how long to wait when any
    /// key is over the limit. Counting before the password is checked means
    /// parallel guesses cannot slip past the limit.
    pub(crate) fn attempt(&self, keys: &[String]) -> Result<(), Duration> {
        let Ok(mut failures) = self.failures.lock() else { return Err(WINDOW) };
        let wait = keys
            .iter()
            .filter_map(|k| failures.get(k))
            .filter(|(count, since)| *count >= MAX_FAILURES && since.elapsed() < WINDOW)
            .map(|(_, since)| WINDOW.saturating_sub(since.elapsed()))
            .max();
        if let Some(wait) = wait {
            return Err(wait);
        }
        if failures.len() + keys.len() > MAX_KEYS {
            failures.retain(|_, (_, since)| since.elapsed() < WINDOW);
        }
        for key in keys {
            if failures.len() >= MAX_KEYS && !failures.contains_key(key) {
                // Full of live entries: refuse rather than forget someone's count.
                return Err(WINDOW);
            }
            let entry = failures.entry(key.clone()).or_insert((0, Instant::now()));
            if entry.1.elapsed() >= WINDOW {
                *entry = (0, Instant::now());
            }
            entry.0 += 1;
        }
        Ok(())
    }

    /// A successful login forgets the keys' attempts.
    pub(crate) fn succeeded(&self, keys: &[String]) {
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
            assert!(throttle.attempt(&keys).is_ok());
        }
        assert!(throttle.attempt(&keys).is_err_and(|d| d > Duration::from_secs(60)));
        throttle.succeeded(&keys);
        assert!(throttle.attempt(&keys).is_ok());
    }
}
