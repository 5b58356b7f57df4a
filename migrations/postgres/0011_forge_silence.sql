-- Forge calls `preUninstall` best-effort, so a tenant born on Forge may
-- never hear it: `forge_reached_at` is when a verified FIT last reached it
-- (an hourly trigger, an event, a page call), and `given_up_at` when the
-- app, having heard nothing for too long, treated it as uninstalled (Forge's
-- next verified delivery for it brings it back).
ALTER TABLE installations ADD COLUMN forge_reached_at BIGINT;
ALTER TABLE installations ADD COLUMN given_up_at BIGINT;
-- Nothing recorded reaches before this migration (the hourly trigger wrote
-- nothing), so the tenants there are counted as reached now, never as silent
-- since their install.
UPDATE installations SET forge_reached_at = CAST(EXTRACT(EPOCH FROM now()) AS BIGINT) WHERE client_key IS NULL;
CREATE INDEX installations_forge_reached ON installations (forge_reached_at) WHERE client_key IS NULL;
