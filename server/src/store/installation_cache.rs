//! This instance's short-lived copy of installation rows by clientKey, so a
//! page load or API call does not wait on the database for a row it read a
//! moment ago.
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

#[derive(Debug, Default)]
pub(crate) struct InstallationCache {
    entries: RwLock<HashMap<String, Entry>>,
    epoch: AtomicU64,
}

#[derive(Debug)]
struct Entry {
    row: Installation,
    read_at: Instant,
    epoch: u64,
}

impl InstallationCache {
    /// The cached row of `client_key`, when it is fresh.
    pub(crate) fn get(&self, client_key: &str) -> Option<Installation> {
        let entries = self.entries.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = entries.get(client_key)?;
        let current = entry.epoch == self.epoch() && entry.read_at.elapsed() < FRESH_FOR;
        current.then(|| entry.row.clone())
    }

    /// The epoch to pass to [`put`](Self::put), taken before the database read.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Keeps `row`, read from the database in `epoch`, unless a write has
    /// changed rows since that read began.
    pub(crate) fn put(&self, epoch: u64, row: &Installation) {
        let mut entries = self.entries.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        if epoch != self.epoch() {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(row.client_key.clone(), Entry { row: row.clone(), read_at: Instant::now(), epoch });
    }

    /// Installation rows changed through this instance: forget every entry.
    pub(crate) fn changed(&self) {
        let mut entries = self.entries.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.epoch.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }
}
