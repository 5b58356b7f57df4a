-- Fingerprint (SHA-256) of the token that signed the last accepted install:
-- the same token replayed with another body is refused.
ALTER TABLE installations ADD COLUMN last_install_token TEXT;
