//! The migration that gives tenants an id of their own keeps today's data:
//! a database at the schema before it, holding a Connect-on-Forge tenant
//! with notes, events, a system token, identities, a queued job and
//! activity, comes out with every row, each hung on the tenant's id (its
//! clientKey's spelling, so sealed tokens and sessions stay valid), the
//! notes still bound to their tenant by a foreign key, and a tenant born on
//! Forge (no clientKey, no secret) now possible beside it.

use std::borrow::Cow;

use server::{
    store::{Database, Pool, installations},
    vendor::ClientKey,
};

use crate::{
    on_both_databases,
    support::{
        db::{DbKind, TestDb},
        rows::rows_naming,
    },
};

const BEFORE: usize = 8;
const CLIENT_KEY: &str = "legacy-client-key";

/// The rows an app of the previous schema kept for one tenant.
const OLD_ROWS: [&str; 8] = [
    "INSERT INTO installations (client_key, base_url, app_key, installation_id, secret_ciphertext, secret_key_id, \
     state, install_generation, install_signature, first_installed_at, last_installed_at, last_event_at, \
     last_event_iat, last_install_iat, cloud_id) VALUES ('legacy-client-key', 'https://old.atlassian.net', \
     'rust-connect-app', 'ari:cloud:ecosystem::installation/11111111-2222-4333-8444-555555555555', $1, 'k1', \
     'enabled', 3, 'rs256', 100, 200, 300, 300, 200, 'cloud-1')",
    "INSERT INTO notes (client_key, author_account_id, title, body, created_at, updated_at, issue_key) \
     VALUES ('legacy-client-key', 'user-1', 'Kept through the move', 'body', 10, 20, 'OLD-1')",
    "INSERT INTO lifecycle_events (client_key, event, occurred_at, signature, outcome, detail) \
     VALUES ('legacy-client-key', 'installed', 100, 'rs256', 'accepted', 'first install')",
    "INSERT INTO forge_system_tokens (client_key, installation_id, token_ciphertext, token_key_id, expires_at, \
     updated_at, api_base_url) VALUES ('legacy-client-key', \
     'ari:cloud:ecosystem::installation/11111111-2222-4333-8444-555555555555', $1, 'k1', 9999, 300, \
     'https://api.atlassian.com/ex/jira/cloud-1')",
    "INSERT INTO tenant_identities (client_key, kind, value, first_seen, last_seen) \
     VALUES ('legacy-client-key', 'cloud_id', 'cloud-1', 100, 300)",
    "INSERT INTO webhook_jobs (client_key, delivery_id, event, entity_key, payload, state, next_attempt_at, \
     received_at) VALUES ('legacy-client-key', 'd-1', 'jira:issue_created', 'issue:OLD-1', '{}', 'queued', 0, 300)",
    "INSERT INTO activity (client_key, delivery_id, event, entity_key, summary, processed_at) \
     VALUES ('legacy-client-key', 'd-0', 'jira:issue_created', 'issue:OLD-1', 'created OLD-1', 250)",
    "INSERT INTO purge_log (client_key, base_url, reason, purged_at) VALUES ('gone-key', 'https://gone.net', \
     'orphaned', 50)",
];

async fn run_sql(db: &Database, sql: &str) {
    let sealed = vec![7u8; 44];
    match &db.pool {
        Pool::Sqlite(pool) => sqlx::query(sql).bind(sealed).execute(pool).await.map(drop),
        Pool::Postgres(pool) => sqlx::query(sql).bind(sealed).execute(pool).await.map(drop),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn count(db: &Database, sql: &str) -> i64 {
    match &db.pool {
        Pool::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        Pool::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn the_tenant_id_migration_keeps_every_row_of_todays_data(kind: DbKind) {
    let test_db = TestDb::new(kind).await;
    let db = Database::connect(&test_db.url).await.unwrap();
    let mut before = match kind {
        DbKind::Sqlite => sqlx::migrate!("../migrations/sqlite"),
        DbKind::Postgres => sqlx::migrate!("../migrations/postgres"),
    };
    assert!(before.migrations.len() > BEFORE, "the migration under test exists");
    before.migrations = Cow::Owned(before.migrations[..BEFORE].to_vec());
    match &db.pool {
        Pool::Sqlite(pool) => before.run(pool).await.unwrap(),
        Pool::Postgres(pool) => before.run(pool).await.unwrap(),
    }
    for sql in OLD_ROWS {
        run_sql(&db, sql).await;
    }
    // A note deleted before the move: its id (2) must never be given again.
    run_sql(
        &db,
        "INSERT INTO notes (client_key, author_account_id, title, body, created_at, updated_at) \
         VALUES ('legacy-client-key', 'user-1', 'Deleted', '', 30, 30)",
    )
    .await;
    run_sql(&db, "DELETE FROM notes WHERE title = 'Deleted'").await;

    db.migrate().await.expect("the migration applies to today's data");

    let tenant =
        installations::find_by_client_key(&db, &ClientKey::new(CLIENT_KEY)).await.unwrap().expect("the tenant is kept");
    assert_eq!(tenant.tenant_id.as_str(), CLIENT_KEY, "an existing tenant's id is its clientKey's spelling");
    assert_eq!((tenant.install_generation, tenant.site.cloud_id.as_deref()), (3, Some("cloud-1")));
    let sealed = tenant.connect.as_ref().map(|c| c.secret.ciphertext.as_slice());
    assert_eq!(sealed, Some(&[7u8; 44][..]), "the sealed secret as it was");
    assert_eq!(tenant.world(), "Connect-on-Forge");
    for (table, expected) in [
        ("notes", 1),
        ("lifecycle_events", 1),
        ("forge_system_tokens", 1),
        ("tenant_identities", 1),
        ("webhook_jobs", 1),
        ("activity", 1),
    ] {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE tenant_id = '{CLIENT_KEY}'");
        assert_eq!(count(&db, &sql).await, expected, "{table} hangs on the tenant id");
    }
    let purge_log = "SELECT COUNT(*) FROM purge_log WHERE tenant_id = 'gone-key' AND client_key = 'gone-key'";
    assert_eq!(count(&db, purge_log).await, 1, "the purge log names both");

    // The notes are still bound to their tenant: a note of no tenant is refused.
    let orphan_note = "INSERT INTO notes (tenant_id, author_account_id, title, body, created_at, updated_at) \
                       VALUES ('no-such-tenant', 'u', 't', 'b', 1, 1)";
    let refused = match &db.pool {
        Pool::Sqlite(pool) => sqlx::query(orphan_note).execute(pool).await.is_err(),
        Pool::Postgres(pool) => sqlx::query(orphan_note).execute(pool).await.is_err(),
    };
    assert!(refused, "the foreign key from notes to their tenant survived the rebuild");

    run_sql(
        &db,
        "INSERT INTO notes (tenant_id, author_account_id, title, body, created_at, updated_at) \
         VALUES ('legacy-client-key', 'user-1', 'After the move', '', 40, 40)",
    )
    .await;
    let new_id = count(&db, "SELECT CAST(id AS BIGINT) FROM notes WHERE title = 'After the move'").await;
    assert!(new_id > 2, "ids count on from the old table's: the deleted note's 2 is not given again ({new_id})");

    // A tenant born on Forge fits the new schema; a Connect row without its secret does not.
    run_sql(
        &db,
        "INSERT INTO installations (tenant_id, base_url, state, install_generation, install_signature, \
         first_installed_at, last_installed_at, last_event_at, last_event_iat, last_install_iat, cloud_id, \
         environment_id, environment_type) VALUES ('t-new', 'https://new.atlassian.net', 'installed', 1, 'fit', \
         1, 1, 1, 1, 1, 'cloud-2', 'env-1', 'PRODUCTION')",
    )
    .await;
    let half_connect = "INSERT INTO installations (tenant_id, client_key, base_url, state, install_generation, \
                        install_signature, first_installed_at, last_installed_at, last_event_at, last_event_iat, \
                        last_install_iat) \
                        VALUES ('t-bad', 'ck', 'https://x.net', 'installed', 1, 'rs256', 1, 1, 1, 1, 1)";
    let refused = match &db.pool {
        Pool::Sqlite(pool) => sqlx::query(half_connect).execute(pool).await.is_err(),
        Pool::Postgres(pool) => sqlx::query(half_connect).execute(pool).await.is_err(),
    };
    assert!(refused, "a clientKey without a sealed secret is refused by the schema");
    assert_eq!(rows_naming(&db, "t-bad").await, Vec::<String>::new());
}
on_both_databases!(the_tenant_id_migration_keeps_every_row_of_todays_data);
