//! Database access, and only that: every SQL statement of the app lives under
//! this module. SQLite is the embedded default; PostgreSQL serves apps that
//! run as several instances. One SQL text serves both (`$n` placeholders,
//! integer Unix times); the macros below expand a statement for each driver.

/// Runs `$body` with `$pool` bound to the configured database's pool.
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match &$db.pool {
            $crate::store::Pool::Sqlite($pool) => $body,
            $crate::store::Pool::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` with `$conn` bound to the open write transaction's connection.
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match &mut $tx.conn {
            $crate::store::write_tx::TxConn::Sqlite(tx) => {
                let $conn = &mut **tx;
                $body
            }
            $crate::store::write_tx::TxConn::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
}

pub(crate) mod activity; // demo
pub mod backup;
mod database;
pub mod event_log;
pub(crate) mod forge_tokens;
pub mod identities;
mod installation_cache;
pub mod installations;
pub(crate) mod notes; // demo
pub mod personal_data;
pub mod purge;
mod tenant_db;
pub mod tenant_lookup;
pub mod webhook_jobs;
mod write_tx;

pub use crate::tenant::Tenant;
pub use database::{Database, Pool, VENDOR_VERSIONS_FROM, VendorMigrations};
pub use tenant_db::TenantDb;
pub(crate) use write_tx::WriteTx;
