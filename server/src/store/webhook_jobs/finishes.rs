//! Ending runs: the outcomes of many jobs written in one transaction, each
//! fenced by its claim, and finished jobs purged after their retention.

use ids::UnixTime;
use sqlx::{Postgres, Transaction};

use super::{ClaimedJob, JobState, QUEUE_LOCK_CLASS, QueueTx};
use crate::{
    error::Result,
    store::{Database, Pool, write_tx::TxConn},
};

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// `Done` or `Dropped`.
    Ended(JobState),
    /// The handlers failed: ready again at `retry_at`, or dead when `None`.
    Failed { error: String, retry_at: Option<UnixTime> },
}

pub(crate) struct Finished {
    pub job: ClaimedJob,
    pub outcome: Outcome,
}

/// Writes the outcomes of `finished` in one transaction. For each, true when
/// its run still held the job (written), false when it had lost it (nothing
/// written), in the order given.
pub(crate) async fn finish_batch(db: &Database, finished: &[Finished], now: UnixTime) -> Result<Vec<bool>> {
    let mut written = vec![false; finished.len()];
    if finished.is_empty() {
        return Ok(written);
    }
    let mut tx = begin(db, finished).await?;
    // Rows are written in tenant order, so two batches never wait for each other in a cycle.
    let mut order: Vec<usize> = (0..finished.len()).collect();
    order.sort_by(|a, b| {
        let (a, b) = (&finished[*a].job, &finished[*b].job);
        (&a.tenant_id, a.id).cmp(&(&b.tenant_id, b.id))
    });
    for i in order {
        written[i] = write_one(&mut tx, &finished[i], now).await?;
    }
    tx.commit().await?;
    Ok(written)
}

/// The batch's transaction; on PostgreSQL it holds the lock of every issue or
/// page among the jobs, taken in one order, so queuing behind a job and
/// ending it stay ordered (otherwise each could miss the other and leave a
/// job blocked for good).
async fn begin(db: &Database, finished: &[Finished]) -> Result<QueueTx> {
    let Pool::Postgres(pool) = &db.pool else { return QueueTx::begin_locking(db, None).await };
    let keys: Vec<String> = finished
        .iter()
        .filter_map(|f| f.job.entity_key.as_ref().map(|entity| format!("{}\n{entity}", f.job.tenant_id)))
        .collect();
    let mut tx: Transaction<'static, Postgres> = pool.begin_with("BEGIN ISOLATION LEVEL READ COMMITTED").await?;
    if !keys.is_empty() {
        let lock = "SELECT pg_advisory_xact_lock($1, k) FROM \
                    (SELECT DISTINCT hashtext(x) AS k FROM unnest($2::text[]) AS x ORDER BY k) AS keys";
        sqlx::query(lock).bind(QUEUE_LOCK_CLASS).bind(keys).execute(&mut *tx).await?;
    }
    Ok(QueueTx { conn: TxConn::Postgres(tx) })
}

/// One outcome, fenced by the run's attempt number; an ended job lets the next of its issue run.
async fn write_one(tx: &mut QueueTx, finished: &Finished, now: UnixTime) -> Result<bool> {
    let job = &finished.job;
    let ended = "UPDATE webhook_jobs SET state = $3, processed_at = $4, locked_until = NULL \
                 WHERE id = $1 AND attempts = $2 AND state = 'running'";
    let failed = "UPDATE webhook_jobs SET state = CASE WHEN $4 IS NULL THEN 'dead' ELSE 'queued' END, \
                  next_attempt_at = COALESCE($4, next_attempt_at), last_error = $3, locked_until = NULL, \
                  processed_at = CASE WHEN $4 IS NULL THEN $5 ELSE processed_at END \
                  WHERE id = $1 AND attempts = $2 AND state = 'running'";
    let (done, releases) = match &finished.outcome {
        Outcome::Ended(state) => {
            let n = on_tx!(tx, conn => sqlx::query(ended).bind(job.id).bind(job.attempts).bind(state.as_str())
                .bind(now).execute(conn).await?.rows_affected());
            (n == 1, true)
        }
        Outcome::Failed { error, retry_at } => {
            let n = on_tx!(tx, conn => sqlx::query(failed).bind(job.id).bind(job.attempts).bind(error)
                .bind(retry_at).bind(now).execute(conn).await?.rows_affected());
            (n == 1, retry_at.is_none())
        }
    };
    if done && releases {
        release(tx, job).await?;
    }
    Ok(done)
}

/// A job ended: the next job of its issue or page may run, and the tenant's backlog shrinks.
async fn release(tx: &mut QueueTx, job: &ClaimedJob) -> Result<()> {
    let next = "UPDATE webhook_jobs SET blocked = 0 WHERE id = (SELECT MIN(id) FROM webhook_jobs \
                WHERE tenant_id = $1 AND entity_key = $2 AND state = 'queued' AND blocked = 1) \
                AND NOT EXISTS (SELECT 1 FROM webhook_jobs WHERE tenant_id = $1 AND entity_key = $2 \
                AND (state = 'running' OR (state = 'queued' AND blocked = 0)))";
    let shrink = "UPDATE webhook_tenants SET backlog = backlog - 1 WHERE tenant_id = $1 AND backlog > 0";
    if let Some(entity) = &job.entity_key {
        on_tx!(tx, conn => sqlx::query(next).bind(&job.tenant_id).bind(entity).execute(conn).await?.rows_affected());
    }
    let shrunk = on_tx!(tx, conn => sqlx::query(shrink).bind(&job.tenant_id).execute(conn).await?.rows_affected());
    if shrunk == 0 {
        tracing::warn!(tenant_id = %job.tenant_id, "a webhook job ended with no backlog counted for its tenant");
    }
    Ok(())
}

/// Rows deleted by one statement of the purge: short transactions, so
/// deliveries are not kept waiting behind it.
const PURGE_CHUNK: i64 = 5_000;
/// Chunks in one purge, so that it ends; the rest waits for the next one.
const PURGE_CHUNKS: usize = 200;

/// Deletes jobs that ended (done, dropped or dead) before `before`. A
/// delivery id is then forgotten: a redelivery of it after this is queued
/// again, so the retention is also the window in which duplicates are
/// recognised. Returns how many were deleted.
pub(crate) async fn purge_finished(db: &Database, before: UnixTime) -> Result<u64> {
    let sql = "DELETE FROM webhook_jobs WHERE id IN (SELECT id FROM webhook_jobs \
               WHERE state IN ('done', 'dropped', 'dead') AND COALESCE(processed_at, received_at) < $1 LIMIT $2)";
    let mut deleted = 0;
    for _ in 0..PURGE_CHUNKS {
        let n = on_pool!(db, pool => sqlx::query(sql).bind(before).bind(PURGE_CHUNK).execute(pool).await?
            .rows_affected());
        deleted += n;
        if n < PURGE_CHUNK as u64 {
            break;
        }
    }
    Ok(deleted)
}
