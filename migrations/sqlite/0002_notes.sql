-- Team notes: tenant data, owned by one installation and purged with it.
CREATE TABLE notes (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    client_key          TEXT NOT NULL REFERENCES installations (client_key) ON DELETE CASCADE,
    author_account_id   TEXT NOT NULL,
    title               TEXT NOT NULL,
    body                TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);

CREATE INDEX notes_by_tenant ON notes (client_key, updated_at);
