-- Tenants get an id of their own: a tenant born on Forge has no clientKey
-- and no shared secret. Every table that held a clientKey to name its tenant
-- holds the tenant id now. An existing tenant keeps its clientKey's spelling
-- as its id, so everything sealed or signed for it (system tokens, sessions)
-- stays valid; new tenants get random ids. Forge tenants are told apart by
-- the site (cloudId) and the Forge environment the app runs in there.
CREATE TABLE installations_v9 (
    tenant_id                   TEXT PRIMARY KEY NOT NULL,
    client_key                  TEXT UNIQUE,
    base_url                    TEXT NOT NULL,
    display_url                 TEXT,
    product_type                TEXT,
    description                 TEXT,
    app_key                     TEXT,
    oauth_client_id             TEXT,
    service_entitlement_number  TEXT,
    installation_id             TEXT,
    secret_ciphertext           BLOB,
    secret_key_id               TEXT,
    state                       TEXT NOT NULL CHECK (state IN ('installed', 'enabled', 'disabled', 'uninstalled')),
    install_generation          INTEGER NOT NULL,
    install_signature           TEXT NOT NULL,
    first_installed_at          INTEGER NOT NULL,
    last_installed_at           INTEGER NOT NULL,
    last_event_at               INTEGER NOT NULL,
    last_event_iat              INTEGER NOT NULL,
    last_install_iat            INTEGER NOT NULL,
    uninstalled_at              INTEGER,
    orphaned_at                 INTEGER,
    last_install_token          TEXT,
    cloud_id                    TEXT,
    environment_id              TEXT,
    environment_type            TEXT,
    -- A Connect tenant has its clientKey and secret; a Forge tenant neither.
    CHECK ((client_key IS NULL) = (secret_ciphertext IS NULL)),
    CHECK ((secret_ciphertext IS NULL) = (secret_key_id IS NULL))
);

INSERT INTO installations_v9 (tenant_id, client_key, base_url, display_url, product_type, description, app_key,
    oauth_client_id, service_entitlement_number, installation_id, secret_ciphertext, secret_key_id, state,
    install_generation, install_signature, first_installed_at, last_installed_at, last_event_at, last_event_iat,
    last_install_iat, uninstalled_at, orphaned_at, last_install_token, cloud_id)
SELECT client_key, client_key, base_url, display_url, product_type, description, app_key,
    oauth_client_id, service_entitlement_number, installation_id, secret_ciphertext, secret_key_id, state,
    install_generation, install_signature, first_installed_at, last_installed_at, last_event_at, last_event_iat,
    last_install_iat, uninstalled_at, orphaned_at, last_install_token, cloud_id
FROM installations;

-- Notes hang on the tenant id; the table is rebuilt for its foreign key.
CREATE TABLE notes_v9 (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id           TEXT NOT NULL REFERENCES installations_v9 (tenant_id) ON DELETE CASCADE,
    author_account_id   TEXT NOT NULL,
    title               TEXT NOT NULL,
    body                TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    issue_key           TEXT
);
INSERT INTO notes_v9 (id, tenant_id, author_account_id, title, body, created_at, updated_at, issue_key)
    SELECT id, client_key, author_account_id, title, body, created_at, updated_at, issue_key FROM notes;

-- A note's id is never given again: the new table counts on from the old one's counter.
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'notes_v9', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'notes_v9');
UPDATE sqlite_sequence
    SET seq = MAX(seq, COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'notes'), 0))
    WHERE name = 'notes_v9';

-- Children first: dropping the old installations then cascades to nothing.
DROP TABLE notes;
DROP TABLE installations;
ALTER TABLE installations_v9 RENAME TO installations;
ALTER TABLE notes_v9 RENAME TO notes;

CREATE INDEX notes_by_tenant ON notes (tenant_id, updated_at);
CREATE INDEX installations_by_base_url ON installations (base_url, last_installed_at);
CREATE INDEX installations_by_retention ON installations (orphaned_at, uninstalled_at);
CREATE INDEX installations_installation_id ON installations (installation_id);
CREATE INDEX installations_by_site_environment ON installations (cloud_id, environment_id, last_installed_at);

ALTER TABLE lifecycle_events RENAME COLUMN client_key TO tenant_id;
ALTER TABLE forge_system_tokens RENAME COLUMN client_key TO tenant_id;
ALTER TABLE tenant_identities RENAME COLUMN client_key TO tenant_id;
ALTER TABLE webhook_jobs RENAME COLUMN client_key TO tenant_id;
ALTER TABLE activity RENAME COLUMN client_key TO tenant_id;

-- The purge log names the tenant and, for a Connect tenant, its clientKey.
ALTER TABLE purge_log RENAME COLUMN client_key TO tenant_id;
ALTER TABLE purge_log ADD COLUMN client_key TEXT;
UPDATE purge_log SET client_key = tenant_id;
