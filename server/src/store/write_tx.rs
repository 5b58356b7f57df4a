//! A write transaction that is race-safe on both databases: SQLite takes the
//! write lock up front (`BEGIN IMMEDIATE`, threat D-08: a deferred read→write
//! upgrade bypasses busy_timeout); PostgreSQL takes a transaction-scoped
//! advisory lock, which also serialises inserts of rows that do not exist yet.

use sqlx::{Postgres, Sqlite, Transaction};

use super::Database;
use crate::error::Result;

/// One lock for all installation writes: lifecycle events are rare, and a
/// single lock also orders site imports across clientKeys of one base URL.
const INSTALLATIONS_LOCK: i64 = 0x636f_6e6e_6563_7401;

pub(crate) enum WriteTx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Database {
    pub(crate) async fn begin_write(&self) -> Result<WriteTx> {
        match self {
            Self::Sqlite(pool) => Ok(WriteTx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?)),
            Self::Postgres(pool) => {
                // Explicit: under REPEATABLE READ the lock statement would take
                // the snapshot, and a waiter would decide on stale rows.
                let mut tx = pool.begin_with("BEGIN ISOLATION LEVEL READ COMMITTED").await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(INSTALLATIONS_LOCK).execute(&mut *tx).await?;
                Ok(WriteTx::Postgres(tx))
            }
        }
    }
}

impl WriteTx {
    pub(crate) async fn commit(self) -> Result<()> {
        match self {
            Self::Sqlite(tx) => tx.commit().await?,
            Self::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}
