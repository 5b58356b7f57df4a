-- Your tables, numbered from 10000 so they never meet the house's. The Hello
-- page counts each user's visits; the rows go with their tenant when the
-- purge deletes it.
CREATE TABLE hello_visits (
    tenant_id   TEXT NOT NULL REFERENCES installations (tenant_id) ON DELETE CASCADE,
    account_id  TEXT NOT NULL,
    visits      INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, account_id)
);
