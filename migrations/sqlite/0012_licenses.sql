-- The tenant's licence for a paid app (`APP_LICENSING`), as Atlassian last
-- said it: a Connect page's `lic` (`active`, `none`) or a FIT's
-- `app.license.active`, as 'active' or 'inactive'; NULL when nothing has
-- said yet. Calls that carry no licence (session tokens, context JWTs,
-- Connect webhooks) are judged by it. `license_said_at` is the `iat` of the
-- token that said it: an older token arriving late never overwrites a newer word.
ALTER TABLE installations ADD COLUMN license TEXT;
ALTER TABLE installations ADD COLUMN license_said_at BIGINT;
