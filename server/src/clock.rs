//! The app's notion of "now", in Unix seconds. Passed into the pure protocol
//! code; tests move it forward (retention windows, clock skew) instead of
//! waiting.

use std::sync::atomic::{AtomicI64, Ordering};

use ids::UnixTime;

#[derive(Debug, Default)]
pub struct Clock {
    offset_secs: AtomicI64,
}

impl Clock {
    pub fn system() -> Self {
        Self::default()
    }

    pub fn now(&self) -> UnixTime {
        let system = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        UnixTime::from_secs(system) + self.offset_secs.load(Ordering::Relaxed)
    }

    /// Moves this clock by `secs` (tests only have a reason to).
    pub fn advance(&self, secs: i64) {
        self.offset_secs.fetch_add(secs, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_now_forward() {
        let clock = Clock::system();
        let before = clock.now();
        clock.advance(31 * 86_400);
        assert!(clock.now() >= before + 31 * 86_400);
    }
}
