//! This instance's short-lived copy of installation rows by the name a
//! request gave (`t:` and a tenant id, `c:` and a clientKey), so a page load
//! or API call does not wait on the database for a row it read a moment ago.
//!
//! Correctness with several instances on one database: an entry is trusted
//! for [`FRESH_FOR`] only, so an uninstall, disable, reinstall, site import or
//! key rotation that another instance (or an operator command) wrote is
//! honoured here within that time. A write made through this instance
//! (every `WriteTx` commit) empties the cache at once. A lookup that raced
//! with such a write is not cached: entries carry the epoch they were read in.

use std::{
    collections::HashMap,
    sync::{
        RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use super::Installation;

/// How long a row read from the database answers for it. Under a second, so
/// another instance's write is honoured within one second.
pub(crate) const FRESH_FOR: Duration = Duration::from_millis(500);

/// Rows kept at most; past it the cache starts again empty. Made-up
/// clientKeys are never cached (only rows that exist), so only real tenants
/// count towards it.
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub(crate) struct InstallationCache {
    entries: RwLock<HashMap<String, Entry>>,
    epoch: AtomicU64,
}

struct Entry {
    row: Installation,
    read_at: Instant,
    epoch: u64,
}

impl std::fmt::Debug for InstallationCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let entries = self.entries.read().map(|e| e.len()).unwrap_or_default();
        f.debug_struct("InstallationCache").field("entries", &entries).field("epoch", &self.epoch()).finish()
    }
}

impl InstallationCache {
    /// The cached row under `key`, when it is fresh.
    pub(crate) fn get(&self, key: &str) -> Option<Installation> {
        let entries = self.entries.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = entries.get(key)?;
        let current = entry.epoch == self.epoch() && entry.read_at.elapsed() < FRESH_FOR;
        current.then(|| entry.row.clone())
    }

    /// The epoch to pass to [`put`](Self::put), taken before the database read.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Keeps `row` under `key`, read from the database in `epoch`, unless a
    /// write has changed rows since that read began.
    pub(crate) fn put(&self, epoch: u64, key: String, row: &Installation) {
        let mut entries = self.entries.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        if epoch != self.epoch() {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, Entry { row: row.clone(), read_at: Instant::now(), epoch });
    }

    /// Installation rows changed through this instance: forget every entry.
    pub(crate) fn changed(&self) {
        let mut entries = self.entries.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.epoch.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(client_key: &str, generation: i64) -> Installation {
        Installation::fixture(client_key, generation)
    }

    #[test]
    fn a_row_read_now_answers_until_a_write_through_this_instance() {
        let cache = InstallationCache::default();
        assert!(cache.get("a").is_none());
        cache.put(cache.epoch(), "a".into(), &row("a", 1));
        assert_eq!(cache.get("a").map(|r| r.install_generation), Some(1));
        assert!(cache.get("b").is_none(), "only the key that was read");
        cache.changed();
        assert!(cache.get("a").is_none(), "a write forgets every copy");
    }

    #[test]
    fn a_read_that_raced_with_a_write_is_not_kept() {
        let cache = InstallationCache::default();
        let before_the_read = cache.epoch();
        cache.changed();
        cache.put(before_the_read, "a".into(), &row("a", 1));
        assert!(cache.get("a").is_none(), "the row may predate the write");
        cache.put(cache.epoch(), "a".into(), &row("a", 2));
        assert_eq!(cache.get("a").map(|r| r.install_generation), Some(2));
    }

    #[test]
    fn a_copy_expires_so_other_instances_writes_count_within_a_second() {
        assert!(FRESH_FOR < Duration::from_secs(1));
        let cache = InstallationCache::default();
        cache.put(cache.epoch(), "a".into(), &row("a", 1));
        std::thread::sleep(FRESH_FOR + Duration::from_millis(20));
        assert!(cache.get("a").is_none());
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = InstallationCache::default();
        for i in 0..=MAX_ENTRIES {
            cache.put(cache.epoch(), format!("k{i}"), &row(&format!("k{i}"), 1));
        }
        let entries = cache.entries.read().unwrap();
        assert!(entries.len() <= MAX_ENTRIES, "{} entries", entries.len());
    }
}
