-- Verified webhook deliveries, persisted before they are answered and
-- processed afterwards by any instance. One row per (tenant, delivery id):
-- Atlassian's retries of a delivery keep its identifier, so they insert nothing.
CREATE TABLE webhook_jobs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    client_key       TEXT NOT NULL,
    delivery_id      TEXT NOT NULL,
    event            TEXT NOT NULL,
    -- The issue or page the event is about: its jobs run one at a time, in order.
    entity_key       TEXT,
    payload          TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead', 'dropped')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    locked_until     BIGINT,
    last_error       TEXT,
    received_at      BIGINT NOT NULL,
    processed_at     BIGINT,
    UNIQUE (client_key, delivery_id)
);
CREATE INDEX webhook_jobs_ready ON webhook_jobs (state, next_attempt_at, id);
CREATE INDEX webhook_jobs_by_entity ON webhook_jobs (client_key, entity_key, state, id);

-- What the demo handler records: the tenant's recent product events.
CREATE TABLE activity (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    client_key    TEXT NOT NULL,
    delivery_id   TEXT NOT NULL,
    event         TEXT NOT NULL,
    entity_key    TEXT,
    summary       TEXT NOT NULL,
    processed_at  BIGINT NOT NULL,
    UNIQUE (client_key, delivery_id)
);
CREATE INDEX activity_by_tenant ON activity (client_key, id);
