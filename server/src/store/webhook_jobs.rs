//! The `webhook_jobs` table: a durable queue of verified deliveries. A
//! delivery id is inserted once per tenant (retries insert nothing); any
//! instance claims a ready job with a lease (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL, the single writer on SQLite), never while an earlier job of
//! the same issue or page is unfinished; a lease that runs out (a crash)
//! makes the job ready again (`requeue_expired`). A claim is fenced by its
//! attempt number: renewing the lease, finishing and failing apply only to
//! the run that holds the job, so a run that lost its lease changes nothing.

use super::{Database, Pool};
use crate::{error::Result, tenant_id::TenantId};

pub(crate) struct NewJob<'a> {
    pub tenant_id: &'a TenantId,
    pub delivery_id: &'a str,
    pub event: &'a str,
    pub entity_key: Option<&'a str>,
    pub payload: &'a str,
    pub now: i64,
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
}

#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct JobRow {
    pub id: i64,
    pub tenant_id: TenantId,
    pub delivery_id: String,
    pub event: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub received_at: i64,
    pub processed_at: Option<i64>,
}

/// Queues a delivery. False when this tenant already has the delivery id.
pub(crate) async fn enqueue(db: &Database, job: &NewJob<'_>) -> Result<bool> {
    let sql = "INSERT INTO webhook_jobs (tenant_id, delivery_id, event, entity_key, payload, state, attempts, \
               next_attempt_at, received_at) VALUES ($1, $2, $3, $4, $5, 'queued', 0, $6, $6) \
               ON CONFLICT (tenant_id, delivery_id) DO NOTHING";
    let inserted = on_pool!(db, pool => sqlx::query(sql).bind(job.tenant_id).bind(job.delivery_id).bind(job.event)
        .bind(job.entity_key).bind(job.payload).bind(job.now).execute(pool).await?.rows_affected());
    Ok(inserted == 1)
}

/// Takes the oldest ready job, if any, under a lease of `lease_secs`. The
/// scan follows the `(state, next_attempt_at, id)` index, so a backlog
/// costs each claim a few index steps, not a pass over the table.
pub(crate) async fn claim(db: &Database, now: i64, lease_secs: i64) -> Result<Option<ClaimedJob>> {
    let lock = match db.pool {
        Pool::Postgres(_) => "FOR UPDATE SKIP LOCKED",
        Pool::Sqlite(_) => "",
    };
    let sql = format!(
        "UPDATE webhook_jobs SET state = 'running', locked_until = $1 + $2, attempts = attempts + 1 \
         WHERE id = (SELECT j.id FROM webhook_jobs j WHERE j.state = 'queued' AND j.next_attempt_at <= $1 \
           AND NOT EXISTS (SELECT 1 FROM webhook_jobs e WHERE e.tenant_id = j.tenant_id \
             AND e.entity_key = j.entity_key AND e.state IN ('queued', 'running') AND e.id < j.id) \
           ORDER BY j.next_attempt_at, j.id LIMIT 1 {lock}) \
         AND state = 'queued' \
         RETURNING id, tenant_id, delivery_id, event, entity_key, payload, attempts"
    );
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(now).bind(lease_secs).fetch_optional(pool).await?))
}

/// Jobs whose worker died (its lease ran out) are ready again. Returns how many.
pub(crate) async fn requeue_expired(db: &Database, now: i64) -> Result<u64> {
    let sql = "UPDATE webhook_jobs SET state = 'queued', next_attempt_at = $1, locked_until = NULL \
               WHERE state = 'running' AND locked_until < $1";
    Ok(on_pool!(db, pool => sqlx::query(sql).bind(now).execute(pool).await?.rows_affected()))
}

/// The run `job` still holds the job until `until`. False: it lost its lease.
pub(crate) async fn renew(db: &Database, job: &ClaimedJob, until: i64) -> Result<bool> {
    let sql = "UPDATE webhook_jobs SET locked_until = $3 WHERE id = $1 AND attempts = $2 AND state = 'running'";
    let renewed = on_pool!(db, pool => sqlx::query(sql).bind(job.id).bind(job.attempts).bind(until)
        .execute(pool).await?.rows_affected());
    Ok(renewed == 1)
}

/// The run's handlers succeeded (or the job was dropped): it is finished.
/// False when the run no longer held the job (nothing written).
pub(crate) async fn finish(db: &Database, job: &ClaimedJob, state: &str, now: i64) -> Result<bool> {
    let sql = "UPDATE webhook_jobs SET state = $3, processed_at = $4, locked_until = NULL \
               WHERE id = $1 AND attempts = $2 AND state = 'running'";
    let done = on_pool!(db, pool => sqlx::query(sql).bind(job.id).bind(job.attempts).bind(state).bind(now)
        .execute(pool).await?.rows_affected());
    Ok(done == 1)
}

/// The run's handlers failed: ready again at `retry_at`, or dead when
/// `None`. False when the run no longer held the job (nothing written).
pub(crate) async fn fail(db: &Database, job: &ClaimedJob, error: &str, retry_at: Option<i64>) -> Result<bool> {
    let sql = "UPDATE webhook_jobs SET state = CASE WHEN $4 IS NULL THEN 'dead' ELSE 'queued' END, \
               next_attempt_at = COALESCE($4, next_attempt_at), last_error = $3, locked_until = NULL \
               WHERE id = $1 AND attempts = $2 AND state = 'running'";
    let done = on_pool!(db, pool => sqlx::query(sql).bind(job.id).bind(job.attempts).bind(error).bind(retry_at)
        .execute(pool).await?.rows_affected());
    Ok(done == 1)
}

/// An operator's retry of a dead job: ready now, with a fresh count.
pub(crate) async fn retry_dead(db: &Database, id: i64, now: i64) -> Result<bool> {
    let sql = "UPDATE webhook_jobs SET state = 'queued', attempts = 0, next_attempt_at = $2 \
               WHERE id = $1 AND state = 'dead'";
    let done = on_pool!(db, pool => sqlx::query(sql).bind(id).bind(now).execute(pool).await?.rows_affected());
    Ok(done == 1)
}

/// The newest jobs, unfinished and dead first, for the console.
pub async fn recent(db: &Database, limit: i64) -> Result<Vec<JobRow>> {
    let sql = "SELECT id, tenant_id, delivery_id, event, state, attempts, last_error, received_at, processed_at \
               FROM webhook_jobs ORDER BY CASE state WHEN 'dead' THEN 0 WHEN 'queued' THEN 1 WHEN 'running' THEN 1 \
               ELSE 2 END, id DESC LIMIT $1";
    Ok(on_pool!(db, pool => sqlx::query_as(sql).bind(limit).fetch_all(pool).await?))
}

/// How many jobs are in each state.
pub async fn counts(db: &Database) -> Result<Vec<(String, i64)>> {
    let sql = "SELECT state, COUNT(*) FROM webhook_jobs GROUP BY state ORDER BY state";
    Ok(on_pool!(db, pool => sqlx::query_as(sql).fetch_all(pool).await?))
}
