-- One row per Connect installation, keyed by the host's clientKey.
-- Times are Unix seconds. The shared secret is stored only as AEAD
-- ciphertext (nonce || ciphertext || tag) with the id of the key that sealed it.
CREATE TABLE installations (
    client_key                  TEXT PRIMARY KEY NOT NULL,
    base_url                    TEXT NOT NULL,
    display_url                 TEXT,
    product_type                TEXT,
    description                 TEXT,
    app_key                     TEXT NOT NULL,
    oauth_client_id             TEXT,
    service_entitlement_number  TEXT,
    installation_id             TEXT,
    secret_ciphertext           BYTEA NOT NULL,
    secret_key_id               TEXT NOT NULL,
    state                       TEXT NOT NULL CHECK (state IN ('installed', 'enabled', 'disabled', 'uninstalled')),
    install_generation          BIGINT NOT NULL,
    install_signature           TEXT NOT NULL,
    first_installed_at          BIGINT NOT NULL,
    last_installed_at           BIGINT NOT NULL,
    last_event_at               BIGINT NOT NULL,
    last_event_iat              BIGINT NOT NULL,
    last_install_iat            BIGINT NOT NULL,
    uninstalled_at              BIGINT,
    orphaned_at                 BIGINT
);

CREATE INDEX installations_by_base_url ON installations (base_url, last_installed_at);
CREATE INDEX installations_by_retention ON installations (orphaned_at, uninstalled_at);

-- Append-only: what happened to an installation, accepted or not. Never a secret.
CREATE TABLE lifecycle_events (
    id              BIGSERIAL PRIMARY KEY,
    client_key      TEXT NOT NULL,
    event           TEXT NOT NULL,
    occurred_at     BIGINT NOT NULL,
    signature       TEXT NOT NULL,
    outcome         TEXT NOT NULL CHECK (outcome IN ('accepted', 'ignored', 'rejected')),
    detail          TEXT
);

CREATE INDEX lifecycle_events_by_client ON lifecycle_events (client_key, id);

-- What the retention job removed, kept after the installation itself is gone.
CREATE TABLE purge_log (
    id              BIGSERIAL PRIMARY KEY,
    client_key      TEXT NOT NULL,
    base_url        TEXT NOT NULL,
    reason          TEXT NOT NULL,
    purged_at       BIGINT NOT NULL
);
