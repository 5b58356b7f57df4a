-- One tenant across Connect and Forge: the site's stable cloudId (learned
-- from verified Forge calls), and every installationId and base URL the
-- tenant has had, each written only on verified proof.
ALTER TABLE installations ADD COLUMN cloud_id TEXT;
CREATE INDEX installations_cloud_id ON installations (cloud_id);

CREATE TABLE tenant_identities (
    client_key  TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('installation_id', 'base_url', 'cloud_id')),
    value       TEXT NOT NULL,
    first_seen  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    PRIMARY KEY (client_key, kind, value)
);
CREATE INDEX tenant_identities_by_value ON tenant_identities (kind, value, last_seen);

INSERT INTO tenant_identities (client_key, kind, value, first_seen, last_seen)
    SELECT client_key, 'base_url', base_url, last_installed_at, last_installed_at FROM installations;
INSERT INTO tenant_identities (client_key, kind, value, first_seen, last_seen)
    SELECT client_key, 'installation_id', installation_id, last_installed_at, last_installed_at
    FROM installations WHERE installation_id IS NOT NULL;

-- The FIT that brought a system token also says where to use it.
ALTER TABLE forge_system_tokens ADD COLUMN api_base_url TEXT;
ALTER TABLE forge_system_tokens ADD COLUMN api_checked_at BIGINT;
ALTER TABLE forge_system_tokens ADD COLUMN api_check TEXT;
