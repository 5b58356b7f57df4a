-- Tenants get an id of their own: a tenant born on Forge has no clientKey
-- and no shared secret. Every table that held a clientKey to name its tenant
-- holds the tenant id now. An existing tenant keeps its clientKey's spelling
-- as its id, so everything sealed or signed for it (system tokens, sessions)
-- stays valid; new tenants get random ids. Forge tenants are told apart by
-- the site (cloudId) and the Forge environment the app runs in there.
ALTER TABLE notes DROP CONSTRAINT notes_client_key_fkey;

ALTER TABLE installations ADD COLUMN tenant_id TEXT;
UPDATE installations SET tenant_id = client_key;
ALTER TABLE installations ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE installations DROP CONSTRAINT installations_pkey;
ALTER TABLE installations ADD PRIMARY KEY (tenant_id);
ALTER TABLE installations ALTER COLUMN client_key DROP NOT NULL;
ALTER TABLE installations ADD CONSTRAINT installations_client_key_key UNIQUE (client_key);
ALTER TABLE installations ALTER COLUMN secret_ciphertext DROP NOT NULL;
ALTER TABLE installations ALTER COLUMN secret_key_id DROP NOT NULL;
ALTER TABLE installations ALTER COLUMN app_key DROP NOT NULL;
ALTER TABLE installations ADD COLUMN environment_id TEXT;
ALTER TABLE installations ADD COLUMN environment_type TEXT;
-- A Connect tenant has its clientKey and secret; a Forge tenant neither.
ALTER TABLE installations ADD CONSTRAINT installations_connect_has_secret
    CHECK ((client_key IS NULL) = (secret_ciphertext IS NULL));
ALTER TABLE installations ADD CONSTRAINT installations_secret_has_key
    CHECK ((secret_ciphertext IS NULL) = (secret_key_id IS NULL));
DROP INDEX installations_cloud_id;
CREATE INDEX installations_by_site_environment ON installations (cloud_id, environment_id, last_installed_at);

ALTER TABLE notes RENAME COLUMN client_key TO tenant_id;
ALTER TABLE notes ADD CONSTRAINT notes_tenant_id_fkey
    FOREIGN KEY (tenant_id) REFERENCES installations (tenant_id) ON DELETE CASCADE;
ALTER TABLE lifecycle_events RENAME COLUMN client_key TO tenant_id;
ALTER TABLE forge_system_tokens RENAME COLUMN client_key TO tenant_id;
ALTER TABLE tenant_identities RENAME COLUMN client_key TO tenant_id;
ALTER TABLE webhook_jobs RENAME COLUMN client_key TO tenant_id;
ALTER TABLE activity RENAME COLUMN client_key TO tenant_id;

-- The purge log names the tenant and, for a Connect tenant, its clientKey.
ALTER TABLE purge_log RENAME COLUMN client_key TO tenant_id;
ALTER TABLE purge_log ADD COLUMN client_key TEXT;
UPDATE purge_log SET client_key = tenant_id;
