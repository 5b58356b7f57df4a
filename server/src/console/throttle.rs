//! Login throttling: after a few attempts in a window without a success, a key (the client's
//! network) must wait. In memory, per instance: enough to make online guessing hopeless.
//! The table is bounded, and a full table never refuses a network it has not seen: it forgets
//! the entry that matters least (one that is not held back, the oldest first), so 10,000
//! networks of one attacker cannot lock the operator's own out. Password checks (argon2,
//! about 19 MiB each) run a few at a time; more at once are answered 429 at once, and that
//! busy answer is not an attempt: it checked nothing.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use tokio::sync::{Semaphore, SemaphorePermit};

const MAX_FAILURES: u32 = 5;
const WINDOW: Duration = Duration::from_secs(15 * 60);
pub const MAX_KEYS: usize = 10_000;
/// Password checks that may run at once on an instance.
const CONCURRENT_CHECKS: usize = 2;

/// Why a login is not checked now.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum NotNow {
    /// The network made too many attempts: wait this long.
    HeldBack(Duration),
    /// As many password checks run as allowed; not an attempt, so not counted.
    Busy,
}

pub(crate) struct LoginThrottle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
    checks: Semaphore,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self { failures: Mutex::default(), checks: Semaphore::new(CONCURRENT_CHECKS) }
    }
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
                forget_least_useful(&mut failures);
            }
            let entry = failures.entry(key.clone()).or_insert((0, Instant::now()));
            if entry.1.elapsed() >= WINDOW {
                *entry = (0, Instant::now());
            }
            entry.0 += 1;
        }
        Ok(())
    }

    /// A turn to check a password, counted as an attempt for every key. A
    /// turn is taken first: a login answered "busy" checked nothing, and
    /// counting it would let a crowd of logins lock out the operator's network.
    pub(crate) fn begin(&self, keys: &[String]) -> Result<SemaphorePermit<'_>, NotNow> {
        let turn = self.password_check().ok_or(NotNow::Busy)?;
        self.attempt(keys).map_err(NotNow::HeldBack)?;
        Ok(turn)
    }

    /// A successful login forgets the keys' attempts.
    pub(crate) fn succeeded(&self, keys: &[String]) {
        if let Ok(mut failures) = self.failures.lock() {
            for key in keys {
                failures.remove(key);
            }
        }
    }

    /// A turn to check a password, or `None` when as many checks as allowed run already.
    fn password_check(&self) -> Option<SemaphorePermit<'_>> {
        self.checks.try_acquire().ok()
    }
}

/// Drops the entry whose loss helps a guesser least: a key not held back
/// (fewest attempts, then oldest) before one that is (oldest first).
fn forget_least_useful(failures: &mut HashMap<String, (u32, Instant)>) {
    let victim = failures
        .iter()
        .min_by_key(|(_, (count, since))| (*count >= MAX_FAILURES, *count, *since))
        .map(|(key, _)| key.clone());
    if let Some(key) = victim {
        failures.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 10,000 networks held back fill the table; a network never seen still gets its attempts.
    #[test]
    fn a_full_table_never_locks_out_a_new_network() {
        let throttle = LoginThrottle::default();
        for n in 0..MAX_KEYS {
            let key = vec![format!("ip:2001:db8:{n:x}::/64")];
            for _ in 0..MAX_FAILURES {
                assert!(throttle.attempt(&key).is_ok());
            }
        }
        let operator = vec!["ip:198.51.100.7".to_string()];
        for attempt in 0..MAX_FAILURES {
            assert!(throttle.attempt(&operator).is_ok(), "attempt {attempt} of a fresh network");
        }
        assert!(throttle.attempt(&operator).is_err(), "and it is held back like any other");
        let failures = throttle.failures.lock().unwrap();
        assert_eq!(failures.len(), MAX_KEYS, "still bounded");
        // One of the attacker's oldest networks made room; the newest is still held back.
        assert!(failures.contains_key(&format!("ip:2001:db8:{:x}::/64", MAX_KEYS - 1)));
    }

    #[test]
    fn the_least_useful_entry_goes_first() {
        let now = Instant::now();
        let later = now + Duration::from_secs(1);
        let mut failures = HashMap::from([
            ("held".to_string(), (MAX_FAILURES, now)),
            ("one-old".to_string(), (1, now)),
            ("one-new".to_string(), (1, later)),
            ("three".to_string(), (3, now)),
        ]);
        forget_least_useful(&mut failures);
        assert!(!failures.contains_key("one-old"));
        forget_least_useful(&mut failures);
        forget_least_useful(&mut failures);
        assert_eq!(failures.keys().collect::<Vec<_>>(), ["held"], "a held-back key goes last");
    }

    #[test]
    fn password_checks_run_a_few_at_a_time() {
        let throttle = LoginThrottle::default();
        let turns: Vec<_> = (0..CONCURRENT_CHECKS).map(|_| throttle.password_check().expect("a turn")).collect();
        assert!(throttle.password_check().is_none(), "one more waits for none: it is refused");
        drop(turns);
        assert!(throttle.password_check().is_some());
    }

    #[test]
    fn a_login_refused_as_busy_is_not_counted_as_an_attempt() {
        let throttle = LoginThrottle::default();
        let keys = vec!["ip:198.51.100.7".to_string()];
        let running: Vec<_> = (0..CONCURRENT_CHECKS).map(|_| throttle.password_check().expect("a turn")).collect();
        for _ in 0..MAX_FAILURES * 3 {
            assert_eq!(throttle.begin(&keys).err(), Some(NotNow::Busy));
        }
        drop(running);
        for attempt in 0..MAX_FAILURES {
            assert!(throttle.begin(&keys).is_ok(), "attempt {attempt}: the busy answers cost none");
        }
        assert!(matches!(throttle.begin(&keys), Err(NotNow::HeldBack(_))), "real attempts still count");
    }

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
