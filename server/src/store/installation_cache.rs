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
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use moka::sync::Cache;

use super::Tenant;

/// How long a row read from the database answers for it. Under a second, so
/// another instance's write is honoured within one second.
pub(crate) const FRESH_FOR: Duration = Duration::from_millis(500);

/// Rows kept at most. Made-up clientKeys are never cached (only rows that
/// exist), so only real tenants count towards it.
const MAX_ENTRIES: u64 = 10_000;

pub(crate) struct InstallationCache {
    entries: Cache<String, Entry>,
    epoch: AtomicU64,
}

#[derive(Clone)]
struct Entry {
    row: Tenant,
    epoch: u64,
}

impl Default for InstallationCache {
    fn default() -> Self {
        let entries = Cache::builder().max_capacity(MAX_ENTRIES).time_to_live(FRESH_FOR).build();
        Self { entries, epoch: AtomicU64::new(0) }
    }
}

impl std::fmt::Debug for InstallationCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let entries = self.entries.entry_count();
        f.debug_struct("InstallationCache").field("entries", &entries).field("epoch", &self.epoch()).finish()
    }
}

impl InstallationCache {
    /// The cached row under `key`, when it is fresh and no write came after its read.
    pub(crate) fn get(&self, key: &str) -> Option<Tenant> {
        let entry = self.entries.get(key)?;
        (entry.epoch == self.epoch()).then_some(entry.row)
    }

    /// The epoch to pass to [`put`](Self::put), taken before the database read.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Keeps `row` under `key`, read from the database in `epoch`, unless a
    /// write has changed rows since that read began. A write that lands
    /// between this check and the insert leaves an entry of the old epoch,
    /// which `get` never answers with.
    pub(crate) fn put(&self, epoch: u64, key: String, row: &Tenant) {
        if epoch == self.epoch() {
            self.entries.insert(key, Entry { row: row.clone(), epoch });
        }
    }

    /// Tenant rows changed through this instance: forget every entry.
    pub(crate) fn changed(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.entries.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(client_key: &str, generation: i64) -> Tenant {
        Tenant::fixture(client_key, generation)
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
        for i in 0..=MAX_ENTRIES + 100 {
            cache.put(cache.epoch(), format!("k{i}"), &row(&format!("k{i}"), 1));
        }
        cache.entries.run_pending_tasks();
        assert!(cache.entries.entry_count() <= MAX_ENTRIES, "{} entries", cache.entries.entry_count());
    }
}
