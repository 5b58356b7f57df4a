-- The tenant's licence for a paid app (`APP_LICENSING`), as Atlassian last
-- said it: a Connect page's `lic` (`active`, `none`) or a FIT's
-- `app.license.active`, as 'active' or 'inactive'; NULL when nothing has
-- said yet. Calls that carry no licence (session tokens, context JWTs,
-- Connect webhooks) are judged by it.
ALTER TABLE installations ADD COLUMN license TEXT;
