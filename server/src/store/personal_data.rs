//! The tenant data that names Atlassian accounts (personal data the app
//! must report and erase), declared per table, and the one lease that
//! makes a reporting cycle run on one instance only.

use ids::{AccountId, TenantId, UnixTime};

use super::{Database, WriteTx};
use crate::error::Result;

/// A table of tenant data (with a `tenant_id` column) that names accounts.
#[derive(Clone, Copy, Debug)]
pub struct PersonalData {
    pub table: &'static str,
    /// The column that holds an account id.
    pub account_column: &'static str,
    /// When the row stored the account (Unix seconds), if the table keeps it:
    /// the report's `updatedAt` is an account's oldest (without it, the time of the report).
    pub stored_column: Option<&'static str>,
    pub erase: Erase,
}

/// What erasing a closed account's personal data does to its rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Erase {
    /// The rows stay, naming [`ANONYMOUS`] instead (a note outlives its author).
    Anonymise,
    /// The rows go (a per-user counter means nothing without its user).
    DeleteRows,
}

/// What an anonymised row names instead of a closed account (no account id looks like it).
pub const ANONYMOUS: &str = "closed-account";

/// The name of the lease the reporting cycle takes.
const LEASE: &str = "personal-data-report";

/// The accounts `holder` names for `tenant_id`, each with the oldest time
/// its rows were written (`now` when the table keeps none).
pub(crate) async fn accounts(
    db: &Database,
    holder: &PersonalData,
    tenant_id: &TenantId,
    now: UnixTime,
) -> Result<Vec<(AccountId, UnixTime)>> {
    let PersonalData { table, account_column: account, stored_column, .. } = holder;
    let stored = stored_column.map_or_else(|| "CAST(NULL AS BIGINT)".to_string(), |c| format!("MIN({c})"));
    let sql = format!(
        "SELECT {account}, {stored} FROM {table} WHERE tenant_id = $1 AND {account} <> $2 GROUP BY {account} \
         ORDER BY {account}"
    );
    let rows: Vec<(String, Option<i64>)> =
        on_pool!(db, pool => sqlx::query_as(&sql).bind(tenant_id).bind(ANONYMOUS).fetch_all(pool).await?);
    Ok(rows.into_iter().map(|(id, at)| (AccountId::new(id), at.map_or(now, UnixTime::from_secs))).collect())
}

/// Erases what `holder` keeps of `account_id` for `tenant_id`; how many rows changed.
pub(crate) async fn erase(
    tx: &mut WriteTx,
    holder: &PersonalData,
    tenant_id: &TenantId,
    account_id: &AccountId,
) -> Result<u64> {
    let PersonalData { table, account_column: account, .. } = holder;
    let (tenant, account_id) = (tenant_id.as_str(), account_id.as_str());
    Ok(match holder.erase {
        Erase::Anonymise => {
            let sql = format!("UPDATE {table} SET {account} = $3 WHERE tenant_id = $1 AND {account} = $2");
            on_tx!(tx, conn => sqlx::query(&sql).bind(tenant).bind(account_id).bind(ANONYMOUS)
                .execute(conn).await?.rows_affected())
        }
        Erase::DeleteRows => {
            let sql = format!("DELETE FROM {table} WHERE tenant_id = $1 AND {account} = $2");
            on_tx!(tx, conn => sqlx::query(&sql).bind(tenant).bind(account_id).execute(conn).await?.rows_affected())
        }
    })
}

/// Takes the reporting cycle due at `now` for this instance: true for the
/// one instance whose claim moved the next cycle to `next`.
pub(crate) async fn claim_cycle(db: &Database, now: UnixTime, next: UnixTime) -> Result<bool> {
    let sql = "UPDATE maintenance_leases SET next_at = $2 WHERE name = $1 AND next_at <= $3";
    let claimed =
        on_pool!(db, pool => sqlx::query(sql).bind(LEASE).bind(next).bind(now).execute(pool).await?.rows_affected());
    Ok(claimed == 1)
}

/// The next cycle is due at `at` (after a cycle that reported nothing).
pub(crate) async fn postpone_cycle(db: &Database, at: UnixTime) -> Result<()> {
    let sql = "UPDATE maintenance_leases SET next_at = $2 WHERE name = $1";
    on_pool!(db, pool => sqlx::query(sql).bind(LEASE).bind(at).execute(pool).await?.rows_affected());
    Ok(())
}

/// Refuses a declaration whose table or columns do not exist, at start,
/// rather than failing every cycle after.
pub(crate) async fn check(db: &Database, holder: &PersonalData) -> Result<()> {
    let PersonalData { table, account_column: account, stored_column, .. } = holder;
    let stored = stored_column.unwrap_or(account);
    let sql = format!("SELECT tenant_id, {account}, {stored} FROM {table} WHERE 1 = 0");
    let checked = on_pool!(db, pool => sqlx::query(&sql).fetch_all(pool).await.map(|_| ()));
    checked.map_err(|e| crate::error::Error::Config(format!("personal data declared in {table}.{account}: {e}")))
}
