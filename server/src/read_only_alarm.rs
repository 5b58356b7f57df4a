//! A process-wide note of when a PostgreSQL server last refused a write
//! because it takes none (SQLSTATE 25006): a primary demoted in place, or one
//! whose `default_transaction_read_only` was turned on, while the pool's
//! connections to it live on. The error is seen where it becomes the crate's
//! [`Error`](crate::error::Error), far from the pool that made it, so the
//! note is global. For a short while after it, the pools check each
//! connection they hand out and drop those to a read-only server
//! (`store::database`); a false alarm costs one round trip per acquire.

use std::{
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

static LAST_SEEN: Mutex<Option<Instant>> = Mutex::new(None);

/// Notes `error` if it is a write refused by a read-only server.
pub(crate) fn note(error: &sqlx::Error) {
    let read_only = matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("25006"));
    if read_only {
        *LAST_SEEN.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
    }
}

/// True if a read-only refusal was noted within `window`.
pub(crate) fn sounded_within(window: Duration) -> bool {
    LAST_SEEN.lock().unwrap_or_else(PoisonError::into_inner).is_some_and(|seen| seen.elapsed() < window)
}
