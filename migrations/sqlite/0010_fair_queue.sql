-- Fair queues. A job behind an unfinished job of the same issue or page is
-- `blocked` until that one ends, so a claim looks only at jobs that can run
-- (one index step per tenant, however many wait behind one issue). Each
-- tenant with work takes its turn: the claim serves the tenant whose last
-- turn is oldest. `backlog` counts the tenant's unfinished jobs, so the
-- per-tenant quota is checked without counting rows.
ALTER TABLE webhook_jobs ADD COLUMN blocked INTEGER NOT NULL DEFAULT 0;
UPDATE webhook_jobs SET blocked = 1
WHERE state = 'queued' AND entity_key IS NOT NULL AND EXISTS (
    SELECT 1 FROM webhook_jobs e WHERE e.tenant_id = webhook_jobs.tenant_id
      AND e.entity_key = webhook_jobs.entity_key AND e.state IN ('queued', 'running') AND e.id < webhook_jobs.id);
CREATE INDEX webhook_jobs_heads ON webhook_jobs (tenant_id, next_attempt_at, id)
    WHERE state = 'queued' AND blocked = 0;

CREATE TABLE webhook_tenants (
    tenant_id  TEXT PRIMARY KEY NOT NULL,
    last_turn  BIGINT NOT NULL DEFAULT 0,
    backlog    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX webhook_tenants_turns ON webhook_tenants (last_turn);
INSERT INTO webhook_tenants (tenant_id, backlog)
    SELECT tenant_id, COUNT(*) FROM webhook_jobs WHERE state IN ('queued', 'running') GROUP BY tenant_id;
