//! The `webhook_jobs` table: a durable queue of verified deliveries. A
//! delivery id is inserted once per tenant (retries insert nothing); any
//! instance claims a ready job with a lease (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL, the single writer on SQLite); a lease that runs out (a crash)
//! makes the job ready again (`requeue_expired`). A claim is fenced by its
//! attempt number: renewing the lease, finishing and failing apply only to
//! the run that holds the job, so a run that lost its lease changes nothing.
//!
//! Fairness (`webhook_tenants`): claims go round-robin by tenant, the one
//! whose last turn is oldest first, a batch sharing its jobs among the
//! tenants whose turn it is, and each tenant may have a bounded backlog. A
//! job behind an unfinished job of the same issue or page is
//! `blocked` until that one ends, so a claim never steps over the jobs
//! waiting behind one issue.

use ids::{TenantId, UnixTime};
use sqlx::{Postgres, Transaction};

mod claims;
mod finishes;

pub(crate) use claims::{claim_batch, renew_held, requeue_expired};
pub(crate) use finishes::{Finished, Outcome, finish_batch, purge_finished};

use super::{Database, Pool, write_tx::TxConn};
use crate::{
    error::{Error, Result},
    text_enum::text_enum,
};

/// The advisory-lock class of queue transactions on PostgreSQL (two-key
/// locks never collide with the one-key installations lock).
const QUEUE_LOCK_CLASS: i32 = 0x7175_6575;

text_enum! {
    /// Where a job is; stored as its name.
    pub enum JobState {
        /// Waiting for a worker (or for its retry time, or behind its issue).
        Queued => "queued",
        /// Claimed by a worker under a lease.
        Running => "running",
        /// Every handler succeeded.
        Done => "done",
        /// Its tenant was no longer active when it ran: nothing ran.
        Dropped => "dropped",
        /// It failed its last attempt; an operator may retry it.
        Dead => "dead",
    }
}

/// Rows of (state, count) read back as states.
fn by_state(rows: Vec<(String, i64)>) -> Result<Vec<(JobState, i64)>> {
    rows.into_iter().map(|(state, n)| Ok((JobState::try_from(state).map_err(Error::Internal)?, n))).collect()
}

pub(crate) struct NewJob<'a> {
    pub tenant_id: &'a TenantId,
    pub delivery_id: &'a str,
    pub event: &'a str,
    pub entity_key: Option<&'a str>,
    pub payload: &'a str,
    pub now: UnixTime,
}

/// What became of a delivery offered to the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Enqueued {
    Queued,
    /// This tenant already has the delivery id: nothing written.
    Duplicate,
    /// The tenant's backlog is at its quota: nothing written.
    Full,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub(crate) struct ClaimedJob {
    pub id: i64,
    pub tenant_id: TenantId,
    pub delivery_id: String,
    pub event: String,
    pub entity_key: Option<String>,
    pub payload: String,
    pub attempts: i64,
    /// When the delivery was queued: a job the site keeps limiting is put
    /// back uncounted only so long after it (`webhooks::worker`).
    pub received_at: UnixTime,
}

#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct JobRow {
    pub id: i64,
    pub tenant_id: TenantId,
    pub delivery_id: String,
    pub event: String,
    #[sqlx(try_from = "String")]
    pub state: JobState,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub received_at: UnixTime,
    pub processed_at: Option<UnixTime>,
}

/// A queue write. SQLite takes its write lock up front; PostgreSQL locks the
/// job's issue or page, so queuing behind a job and ending it are ordered
/// (otherwise each could miss the other and leave a job blocked for good).
struct QueueTx {
    conn: TxConn,
}

impl QueueTx {
    async fn begin(db: &Database, tenant: &TenantId, entity: Option<&str>) -> Result<Self> {
        Self::begin_locking(db, entity.map(|entity| format!("{tenant}\n{entity}"))).await
    }

    async fn begin_locking(db: &Database, lock: Option<String>) -> Result<Self> {
        let conn = match &db.pool {
            Pool::Sqlite(pool) => TxConn::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(pool) => {
                // Explicit: under REPEATABLE READ the lock statement would take
                // the snapshot, and a waiter would decide on stale rows.
                let mut tx: Transaction<'static, Postgres> =
                    pool.begin_with("BEGIN ISOLATION LEVEL READ COMMITTED").await?;
                if let Some(lock) = lock {
                    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
                        .bind(QUEUE_LOCK_CLASS)
                        .bind(lock)
                        .execute(&mut *tx)
                        .await?;
                }
                TxConn::Postgres(tx)
            }
        };
        Ok(Self { conn })
    }

    async fn commit(self) -> Result<()> {
        match self.conn {
            TxConn::Sqlite(tx) => tx.commit().await?,
            TxConn::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    /// Rolls back now, so SQLite's write lock is not held until the pool gets round to it.
    async fn rollback(self) -> Result<()> {
        match self.conn {
            TxConn::Sqlite(tx) => tx.rollback().await?,
            TxConn::Postgres(tx) => tx.rollback().await?,
        }
        Ok(())
    }
}

/// True when another unfinished job of the same issue or page exists: the new one waits behind it.
const BEHIND_ANOTHER: &str = "CASE WHEN EXISTS (SELECT 1 FROM webhook_jobs e WHERE e.tenant_id = $1 \
    AND e.entity_key = $4 AND e.state IN ('queued', 'running')) THEN 1 ELSE 0 END";

/// Queues a delivery, unless the tenant already has it or its backlog is at `quota`.
pub(crate) async fn enqueue(db: &Database, job: &NewJob<'_>, quota: i64) -> Result<Enqueued> {
    let insert = format!(
        "INSERT INTO webhook_jobs (tenant_id, delivery_id, event, entity_key, payload, state, attempts, \
         next_attempt_at, received_at, blocked) VALUES ($1, $2, $3, $4, $5, 'queued', 0, $6, $6, {BEHIND_ANOTHER}) \
         ON CONFLICT (tenant_id, delivery_id) DO NOTHING"
    );
    let count = "INSERT INTO webhook_tenants (tenant_id, backlog) VALUES ($1, 1) ON CONFLICT (tenant_id) \
                 DO UPDATE SET backlog = webhook_tenants.backlog + 1 WHERE webhook_tenants.backlog < $2";
    let mut tx = QueueTx::begin(db, job.tenant_id, job.entity_key).await?;
    let inserted = on_tx!(tx, conn => sqlx::query(&insert).bind(job.tenant_id).bind(job.delivery_id)
        .bind(job.event).bind(job.entity_key).bind(job.payload).bind(job.now).execute(conn).await?.rows_affected());
    if inserted == 0 {
        tx.rollback().await?;
        return Ok(Enqueued::Duplicate);
    }
    let counted = on_tx!(tx, conn => sqlx::query(count).bind(job.tenant_id).bind(quota)
        .execute(conn).await?.rows_affected());
    if counted == 0 {
        tx.rollback().await?;
        return Ok(Enqueued::Full);
    }
    tx.commit().await?;
    Ok(Enqueued::Queued)
}

/// An operator's retry of a dead job: ready now (or behind an unfinished
/// job of its issue), with a fresh count, above any quota.
pub(crate) async fn retry_dead(db: &Database, id: i64, now: UnixTime) -> Result<bool> {
    let find = "SELECT tenant_id, entity_key FROM webhook_jobs WHERE id = $1 AND state = 'dead'";
    let Some((tenant, entity)): Option<(TenantId, Option<String>)> =
        on_pool!(db, pool => sqlx::query_as(find).bind(id).fetch_optional(pool).await?)
    else {
        return Ok(false);
    };
    let retry = format!(
        "UPDATE webhook_jobs SET state = 'queued', attempts = 0, next_attempt_at = $1, blocked = {} \
         WHERE id = $2 AND state = 'dead'",
        BEHIND_ANOTHER.replace("$1", "webhook_jobs.tenant_id").replace("$4", "webhook_jobs.entity_key")
    );
    let grow = "INSERT INTO webhook_tenants (tenant_id, backlog) VALUES ($1, 1) ON CONFLICT (tenant_id) \
                DO UPDATE SET backlog = webhook_tenants.backlog + 1";
    let mut tx = QueueTx::begin(db, &tenant, entity.as_deref()).await?;
    let done = on_tx!(tx, conn => sqlx::query(&retry).bind(now).bind(id)
        .execute(conn).await?.rows_affected())
        == 1;
    if done {
        on_tx!(tx, conn => sqlx::query(grow).bind(&tenant).execute(conn).await?.rows_affected());
    }
    tx.commit().await?;
    Ok(done)
}

/// When the oldest job that could run now became ready (None: none can).
pub(crate) async fn oldest_ready(db: &Database, now: UnixTime) -> Result<Option<UnixTime>> {
    let sql = "SELECT MIN(next_attempt_at) FROM webhook_jobs WHERE state = 'queued' AND blocked = 0 \
               AND next_attempt_at <= $1";
    let (oldest,): (Option<UnixTime>,) = on_pool!(db, pool => sqlx::query_as(sql).bind(now).fetch_one(pool).await?);
    Ok(oldest)
}

/// The newest jobs, unfinished and dead first, for the console.
pub async fn recent(db: &Database, limit: i64) -> Result<Vec<JobRow>> {
    let sql = "SELECT id, tenant_id, delivery_id, event, state, attempts, last_error, received_at, processed_at \
               FROM webhook_jobs ORDER BY CASE state WHEN 'dead' THEN 0 WHEN 'queued' THEN 1 WHEN 'running' THEN 1 \
               ELSE 2 END, id DESC LIMIT $1";
    Ok(on_pool!(db, pool => sqlx::query_as(sql).bind(limit).fetch_all(pool).await?))
}

/// How many jobs are queued, running or dead: an index range, however many are done.
pub(crate) async fn unfinished_counts(db: &Database) -> Result<Vec<(JobState, i64)>> {
    let sql = "SELECT state, COUNT(*) FROM webhook_jobs WHERE state IN ('queued', 'running', 'dead') \
               GROUP BY state ORDER BY state";
    by_state(on_pool!(db, pool => sqlx::query_as(sql).fetch_all(pool).await?))
}

/// How many jobs are in each state.
pub async fn counts(db: &Database) -> Result<Vec<(JobState, i64)>> {
    let sql = "SELECT state, COUNT(*) FROM webhook_jobs GROUP BY state ORDER BY state";
    by_state(on_pool!(db, pool => sqlx::query_as(sql).fetch_all(pool).await?))
}
