//! Ending runs: the outcomes of many jobs written in one transaction, each
//! fenced by its claim, and finished jobs purged after their retention.

use std::collections::BTreeMap;

use ids::{TenantId, UnixTime};
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
    /// The tenant's site limited a call: ready again at `retry_at`, the run
    /// not counted as an attempt.
    Deferred { error: String, retry_at: UnixTime },
}

pub(crate) struct Finished {
    pub job: ClaimedJob,
    pub outcome: Outcome,
}

/// Writes the outcomes of `finished` in one transaction. For each, true when
/// its run still held the job (written), false when it had lost it (nothing
/// written), in the order given. The ended jobs of a state are written by one
/// statement and each tenant's releases by two, so a batch costs a few
/// statements, not a few per job.
pub(crate) async fn finish_batch(db: &Database, finished: &[Finished], now: UnixTime) -> Result<Vec<bool>> {
    let mut written = vec![false; finished.len()];
    if finished.is_empty() {
        return Ok(written);
    }
    let mut tx = begin(db, finished).await?;
    for state in [JobState::Done, JobState::Dropped] {
        let ended: Vec<usize> = (0..finished.len()).filter(|i| finished[*i].outcome == Outcome::Ended(state)).collect();
        for chunk in ended.chunks(CHUNK) {
            let held = end_all(&mut tx, finished, chunk, state, now).await?;
            chunk.iter().filter(|i| held.contains(&finished[**i].job.id)).for_each(|i| written[*i] = true);
        }
    }
    for (i, finished) in finished.iter().enumerate() {
        written[i] = match &finished.outcome {
            Outcome::Failed { error, retry_at } => fail_one(&mut tx, &finished.job, error, *retry_at, 1, now).await?,
            Outcome::Deferred { error, retry_at } => {
                fail_one(&mut tx, &finished.job, error, Some(*retry_at), 0, now).await?
            }
            Outcome::Ended(_) => written[i],
        };
    }
    let queued_again =
        |outcome: &Outcome| matches!(outcome, Outcome::Failed { retry_at: Some(_), .. } | Outcome::Deferred { .. });
    let released: Vec<&ClaimedJob> = finished
        .iter()
        .zip(&written)
        .filter(|(f, written)| **written && !queued_again(&f.outcome))
        .map(|(f, _)| &f.job)
        .collect();
    release(&mut tx, &released).await?;
    tx.commit().await?;
    Ok(written)
}

/// Jobs per statement: far below SQLite's and PostgreSQL's limits on bound values.
const CHUNK: usize = 400;

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

/// Ends the jobs `chunk` points at in `state`, each fenced by its run's
/// attempt number; the ids of those their runs still held.
async fn end_all(
    tx: &mut QueueTx,
    finished: &[Finished],
    chunk: &[usize],
    state: JobState,
    now: UnixTime,
) -> Result<Vec<i64>> {
    let sql = format!(
        "UPDATE webhook_jobs SET state = $1, processed_at = $2, locked_until = NULL \
         WHERE state = 'running' AND ({}) RETURNING id",
        super::claims::fenced(3, chunk.len())
    );
    let rows: Vec<(i64,)> = on_tx!(tx, conn => {
        let mut query = sqlx::query_as(&sql).bind(state.as_str()).bind(now);
        for i in chunk {
            query = query.bind(finished[*i].job.id).bind(finished[*i].job.attempts);
        }
        query.fetch_all(conn).await?
    });
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// A failed run, fenced by its attempt number: ready again at `retry_at`, or
/// dead; `counted` (1) keeps the run as an attempt, 0 takes it back.
async fn fail_one(
    tx: &mut QueueTx,
    job: &ClaimedJob,
    error: &str,
    retry_at: Option<UnixTime>,
    counted: i64,
    now: UnixTime,
) -> Result<bool> {
    let failed = "UPDATE webhook_jobs SET state = CASE WHEN $4 IS NULL THEN 'dead' ELSE 'queued' END, \
                  next_attempt_at = COALESCE($4, next_attempt_at), last_error = $3, locked_until = NULL, \
                  processed_at = CASE WHEN $4 IS NULL THEN $5 ELSE processed_at END, \
                  attempts = attempts - 1 + $6 \
                  WHERE id = $1 AND attempts = $2 AND state = 'running'";
    let n = on_tx!(tx, conn => sqlx::query(failed).bind(job.id).bind(job.attempts).bind(error)
        .bind(retry_at).bind(now).bind(counted).execute(conn).await?.rows_affected());
    Ok(n == 1)
}

/// Jobs ended for good: the next job of each one's issue or page may run,
/// and each tenant's backlog shrinks by its jobs. Tenants in order, so two
/// batches never wait for each other in a cycle.
async fn release(tx: &mut QueueTx, released: &[&ClaimedJob]) -> Result<()> {
    // Per tenant: the issues or pages of its jobs, and how many jobs ended.
    let mut by_tenant: BTreeMap<&TenantId, (Vec<&str>, i64)> = BTreeMap::new();
    for job in released {
        let (entities, ended) = by_tenant.entry(&job.tenant_id).or_default();
        entities.extend(job.entity_key.as_deref());
        *ended += 1;
    }
    for (tenant, (entities, ended)) in &by_tenant {
        for chunk in entities.chunks(CHUNK) {
            unblock_next(tx, tenant, chunk).await?;
        }
        shrink_backlog(tx, tenant, *ended).await?;
    }
    Ok(())
}

/// For each issue or page of `entities` (each once: jobs of one issue never
/// run at once), its oldest blocked job is unblocked unless another of the
/// issue is running or ready.
async fn unblock_next(tx: &mut QueueTx, tenant: &TenantId, entities: &[&str]) -> Result<()> {
    if entities.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE webhook_jobs SET blocked = 0 WHERE id IN (SELECT MIN(id) FROM webhook_jobs \
         WHERE tenant_id = $1 AND entity_key IN ({}) AND state = 'queued' AND blocked = 1 GROUP BY entity_key) \
         AND NOT EXISTS (SELECT 1 FROM webhook_jobs o WHERE o.tenant_id = $1 \
         AND o.entity_key = webhook_jobs.entity_key \
         AND (o.state = 'running' OR (o.state = 'queued' AND o.blocked = 0)))",
        super::claims::placeholders(2, entities.len())
    );
    on_tx!(tx, conn => {
        let mut query = sqlx::query(&sql).bind(tenant);
        for entity in entities {
            query = query.bind(*entity);
        }
        query.execute(conn).await?.rows_affected()
    });
    Ok(())
}

/// The tenant's backlog counts `ended` fewer unfinished jobs.
async fn shrink_backlog(tx: &mut QueueTx, tenant: &TenantId, ended: i64) -> Result<()> {
    let shrink = "UPDATE webhook_tenants SET backlog = backlog - $2 WHERE tenant_id = $1 AND backlog >= $2";
    let shrunk = on_tx!(tx, conn => sqlx::query(shrink).bind(tenant).bind(ended).execute(conn).await?.rows_affected());
    if shrunk == 0 {
        tracing::warn!(tenant_id = %tenant, ended, "webhook jobs ended with less backlog counted for their tenant");
        let empty = "UPDATE webhook_tenants SET backlog = 0 WHERE tenant_id = $1";
        on_tx!(tx, conn => sqlx::query(empty).bind(tenant).execute(conn).await?.rows_affected());
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
