//! A write transaction that is race-safe on both databases: SQLite takes the
//! write lock up front (`BEGIN IMMEDIATE`, threat D-08: a deferred read→write
//! upgrade bypasses busy_timeout); PostgreSQL takes a transaction-scoped
//! advisory lock, which also serialises inserts of rows that do not exist yet.
//! Its commit tells this instance's installation cache that rows changed.

use std::sync::Arc;

use sqlx::{Postgres, Sqlite, Transaction};

use super::{Database, Pool, installation_cache::InstallationCache};
use crate::error::Result;

/// One lock for all installation writes: lifecycle events are rare, and a
/// single lock also orders site imports across clientKeys of one base URL.
const INSTALLATIONS_LOCK: i64 = 0x636f_6e6e_6563_7401;

pub(crate) struct WriteTx {
    pub(super) conn: TxConn,
    installations: Arc<InstallationCache>,
}

pub(crate) enum TxConn {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Database {
    pub(crate) async fn begin_write(&self) -> Result<WriteTx> {
        let conn = match &self.pool {
            Pool::Sqlite(pool) => TxConn::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(pool) => {
                // Explicit: under REPEATABLE READ the lock statement would take
                // the snapshot, and a waiter would decide on stale rows.
                let mut tx = pool.begin_with("BEGIN ISOLATION LEVEL READ COMMITTED").await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(INSTALLATIONS_LOCK).execute(&mut *tx).await?;
                TxConn::Postgres(tx)
            }
        };
        Ok(WriteTx { conn, installations: self.installations.clone() })
    }
}

impl WriteTx {
    pub(crate) async fn commit(self) -> Result<()> {
        let committed = match self.conn {
            TxConn::Sqlite(tx) => tx.commit().await,
            TxConn::Postgres(tx) => tx.commit().await,
        };
        // Even a commit that reports an error may have landed.
        self.installations.changed();
        Ok(committed?)
    }
}
