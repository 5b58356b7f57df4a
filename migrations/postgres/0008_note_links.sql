-- A note may be linked to a Jira issue; the issue's events then show on it.
ALTER TABLE notes ADD COLUMN issue_key TEXT;
CREATE INDEX activity_by_entity ON activity (client_key, entity_key, id);
