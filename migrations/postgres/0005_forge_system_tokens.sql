-- The newest Forge system token (x-forge-oauth-system) per installation,
-- sealed like the shared secrets; it lets the app call the product as itself.
CREATE TABLE forge_system_tokens (
    client_key        TEXT PRIMARY KEY NOT NULL,
    installation_id   TEXT NOT NULL,
    token_ciphertext  BYTEA NOT NULL,
    token_key_id      TEXT NOT NULL,
    expires_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
