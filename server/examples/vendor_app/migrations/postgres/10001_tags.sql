-- A vendor's own table: its rows go with their tenant when the purge deletes it.
CREATE TABLE vendor_tags (
    tenant_id  TEXT NOT NULL REFERENCES installations (tenant_id) ON DELETE CASCADE,
    tag        TEXT NOT NULL,
    PRIMARY KEY (tenant_id, tag)
);
