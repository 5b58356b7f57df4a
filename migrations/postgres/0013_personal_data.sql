-- Work that one instance of several does at a time: each row is a job and
-- the time its next run is due; an instance runs it by moving `next_at`
-- on in one statement, which only one instance can do. The personal data
-- report is due at once on a new install.
CREATE TABLE maintenance_leases (
    name     TEXT PRIMARY KEY,
    next_at  BIGINT NOT NULL
);
INSERT INTO maintenance_leases (name, next_at) VALUES ('personal-data-report', 0);
