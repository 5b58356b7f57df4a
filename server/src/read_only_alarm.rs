//! A process-wide note of when a PostgreSQL server last refused a write
//! because it takes none (SQLSTATE 25006): a primary demoted in place, or one
//! whose `default_transaction_read_only` was turned on, while the pool's
//! connections to it live on. The error is seen where it becomes the crate's
//! [`Error`](crate::error::Error), far from the pool that made it, so the
//! note is global. For a short while after it, the pools check each
//! connection they hand out and drop those to a read-only server
//! (`store::database`); a false alarm costs one round trip per acquire.

use std::{
    sync::{
        OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

/// Milliseconds from [`epoch`] to the last refusal, plus one (0: never).
static LAST_SEEN: AtomicU64 = AtomicU64::new(0);

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn millis_since_epoch() -> u64 {
    u64::try_from(epoch().elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1
}

/// Notes `error` if it is a write refused by a read-only server.
pub(crate) fn note(error: &sqlx::Error) {
    if matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("25006")) {
        sound();
    }
}

/// Notes a read-only server now (a pooled connection found to be on one).
pub(crate) fn sound() {
    LAST_SEEN.store(millis_since_epoch(), Ordering::Relaxed);
}

/// True if a read-only server was noted within `window`.
pub(crate) fn sounded_within(window: Duration) -> bool {
    let seen = LAST_SEEN.load(Ordering::Relaxed);
    let window = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
    seen != 0 && millis_since_epoch().saturating_sub(seen) < window
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_read_only_refusal_sounds_it_and_it_fades() {
        note(&sqlx::Error::Protocol("not a refusal".into()));
        assert!(!sounded_within(Duration::from_secs(3600)), "no unit test talks to a read-only server");
        sound();
        assert!(sounded_within(Duration::from_secs(2)));
        std::thread::sleep(Duration::from_millis(30));
        assert!(!sounded_within(Duration::from_millis(10)));
    }
}
