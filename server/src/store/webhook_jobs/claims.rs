//! Taking jobs: a batch at a time under a lease, round-robin by tenant; the
//! lease renewed for the jobs a worker still runs; leases that ran out (a
//! worker that died) made ready again.

use ids::{TenantId, UnixTime};

use super::{ClaimedJob, QueueTx};
use crate::{
    error::Result,
    store::{Database, Pool},
};

/// A job that can run now: queued, not behind another of its issue, due.
const READY: &str = "state = 'queued' AND blocked = 0 AND next_attempt_at <= $1";

/// `$1, $2, …` from `first`: the placeholders of an `IN` list of `count` values.
pub(super) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}

/// `(id = $n AND attempts = $n+1) OR …` from `first`: `count` jobs, each
/// matched only while its run's claim (the attempt number) still holds.
pub(super) fn fenced(first: usize, count: usize) -> String {
    let fence = |n: usize| format!("(id = ${} AND attempts = ${})", first + 2 * n, first + 1 + 2 * n);
    (0..count).map(fence).collect::<Vec<_>>().join(" OR ")
}

/// Takes up to `max` ready jobs under a lease of `lease_secs`, in one
/// transaction. The tenants whose turn it is (oldest last turn first, as
/// many as `max`) share the batch: each gives its oldest ready jobs, up to
/// an equal part, and goes to the back of the round in that order. Jobs of
/// one issue never meet in a batch: only the first of an issue is unblocked.
pub(crate) async fn claim_batch(db: &Database, now: UnixTime, lease_secs: i64, max: usize) -> Result<Vec<ClaimedJob>> {
    if max == 0 {
        return Ok(Vec::new());
    }
    let mut tx = QueueTx::begin_locking(db, None).await?;
    let tenants = turn_order(&mut tx, now, max).await?;
    if tenants.is_empty() {
        tx.rollback().await?;
        return Ok(Vec::new());
    }
    let share = max.div_ceil(tenants.len());
    let mut ids = Vec::with_capacity(max);
    let mut served = Vec::with_capacity(tenants.len());
    for tenant in &tenants {
        let room = share.min(max - ids.len());
        let heads = ready_heads(&mut tx, db, tenant, now, room).await?;
        if !heads.is_empty() {
            served.push(tenant.clone());
            ids.extend(heads);
        }
        if ids.len() == max {
            break;
        }
    }
    let jobs = take(&mut tx, &ids, now, lease_secs).await?;
    next_turns(&mut tx, &served).await?;
    tx.commit().await?;
    Ok(jobs)
}

/// Tenants with a ready job, whose turn is oldest first.
async fn turn_order(tx: &mut QueueTx, now: UnixTime, max: usize) -> Result<Vec<TenantId>> {
    // The tenant is chosen without locking anything; only the jobs taken are
    // locked (a scan that locked every head it looked at would make other
    // instances skip them).
    let sql = format!(
        "SELECT t.tenant_id FROM webhook_tenants t WHERE t.backlog > 0 AND EXISTS (SELECT 1 FROM webhook_jobs h \
         WHERE h.tenant_id = t.tenant_id AND h.{READY}) ORDER BY t.last_turn, t.tenant_id LIMIT $2"
    );
    let limit = i64::try_from(max).unwrap_or(i64::MAX);
    let rows: Vec<(TenantId,)> = on_tx!(tx, conn => sqlx::query_as(&sql).bind(now).bind(limit).fetch_all(conn).await?);
    Ok(rows.into_iter().map(|(t,)| t).collect())
}

/// The tenant's oldest ready jobs, at most `room`; on PostgreSQL those that
/// another instance's claim holds are skipped, not waited for.
async fn ready_heads(
    tx: &mut QueueTx,
    db: &Database,
    tenant: &TenantId,
    now: UnixTime,
    room: usize,
) -> Result<Vec<i64>> {
    let lock = match db.pool {
        Pool::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        Pool::Sqlite(_) => "",
    };
    let sql = format!(
        "SELECT id FROM webhook_jobs WHERE tenant_id = $2 AND {READY} ORDER BY next_attempt_at, id LIMIT $3{lock}"
    );
    let limit = i64::try_from(room).unwrap_or(i64::MAX);
    let rows: Vec<(i64,)> =
        on_tx!(tx, conn => sqlx::query_as(&sql).bind(now).bind(tenant).bind(limit).fetch_all(conn).await?);
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Marks the jobs running under a new lease and a new attempt number (the fence of this run).
async fn take(tx: &mut QueueTx, ids: &[i64], now: UnixTime, lease_secs: i64) -> Result<Vec<ClaimedJob>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "UPDATE webhook_jobs SET state = 'running', locked_until = $1 + $2, attempts = attempts + 1 \
         WHERE state = 'queued' AND id IN ({}) \
         RETURNING id, tenant_id, delivery_id, event, entity_key, payload, attempts, received_at",
        placeholders(3, ids.len())
    );
    let mut jobs: Vec<ClaimedJob> = on_tx!(tx, conn => {
        let mut query = sqlx::query_as(&sql).bind(now).bind(lease_secs);
        for id in ids {
            query = query.bind(id);
        }
        query.fetch_all(conn).await?
    });
    // In the order they were picked: tenant by tenant, oldest first.
    jobs.sort_by_key(|job| ids.iter().position(|id| *id == job.id));
    Ok(jobs)
}

/// The tenants served go to the back of the round, in the order they were
/// served. Rows are written in tenant order, so two instances' claims never
/// wait for each other in a cycle.
async fn next_turns(tx: &mut QueueTx, served: &[TenantId]) -> Result<()> {
    if served.is_empty() {
        return Ok(());
    }
    let last = "SELECT COALESCE(MAX(last_turn), 0) FROM webhook_tenants";
    let (last,): (i64,) = on_tx!(tx, conn => sqlx::query_as(last).fetch_one(conn).await?);
    let mut turns: Vec<(&TenantId, i64)> = served.iter().zip(1..).map(|(t, n)| (t, last + n)).collect();
    turns.sort_by(|a, b| a.0.cmp(b.0));
    let sql = "UPDATE webhook_tenants SET last_turn = $2 WHERE tenant_id = $1";
    for (tenant, turn) in turns {
        on_tx!(tx, conn => sqlx::query(sql).bind(tenant).bind(turn).execute(conn).await?.rows_affected());
    }
    Ok(())
}

/// Jobs whose worker died (its lease ran out) are ready again. Returns how many.
pub(crate) async fn requeue_expired(db: &Database, now: UnixTime) -> Result<u64> {
    let sql = "UPDATE webhook_jobs SET state = 'queued', next_attempt_at = $1, locked_until = NULL \
               WHERE state = 'running' AND locked_until < $1";
    Ok(on_pool!(db, pool => sqlx::query(sql).bind(now).execute(pool).await?.rows_affected()))
}

/// Renews the lease of the jobs a worker still runs, each fenced by its
/// attempt number, until `until`. Returns the ids still held: a job not
/// among them was taken over, and its run must stop.
pub(crate) async fn renew_held(db: &Database, held: &[(i64, i64)], until: UnixTime) -> Result<Vec<i64>> {
    if held.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "UPDATE webhook_jobs SET locked_until = $1 WHERE state = 'running' AND ({}) RETURNING id",
        fenced(2, held.len())
    );
    let rows: Vec<(i64,)> = on_pool!(db, pool => {
        let mut query = sqlx::query_as(&sql).bind(until);
        for (id, attempts) in held {
            query = query.bind(id).bind(attempts);
        }
        query.fetch_all(pool).await?
    });
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

#[cfg(test)]
mod tests {
    use super::{fenced, placeholders};

    #[test]
    fn placeholders_number_from_the_first_free_one() {
        assert_eq!(placeholders(3, 3), "$3, $4, $5");
        assert_eq!(placeholders(1, 1), "$1");
        assert_eq!(fenced(3, 2), "(id = $3 AND attempts = $4) OR (id = $5 AND attempts = $6)");
    }
}
