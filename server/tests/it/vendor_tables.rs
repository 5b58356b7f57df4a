//! A vendor's own tables: migrations beside the house's (numbered clear of
//! them), rows bound to a real tenant, purged with it, and instances that
//! know only the house's migrations still start on that database.

use std::time::Duration;

use hostkit::Tenant;
use server::{
    maintenance,
    store::{Database, Pool, tenant_lookup},
    vendor::{Application, Config, VendorMigrations},
};

use crate::{
    on_both_databases,
    support::{app::TestApp, db::DbKind},
};

fn tags() -> VendorMigrations {
    VendorMigrations {
        sqlite: sqlx::migrate!("examples/vendor_app/migrations/sqlite"),
        postgres: sqlx::migrate!("examples/vendor_app/migrations/postgres"),
    }
}

async fn tag(db: &Database, tenant_id: &str, tag: &str) -> Result<u64, sqlx::Error> {
    let sql = "INSERT INTO vendor_tags (tenant_id, tag) VALUES ($1, $2)";
    Ok(match &db.pool {
        Pool::Sqlite(pool) => sqlx::query(sql).bind(tenant_id).bind(tag).execute(pool).await?.rows_affected(),
        Pool::Postgres(pool) => sqlx::query(sql).bind(tenant_id).bind(tag).execute(pool).await?.rows_affected(),
    })
}

async fn tags_of(db: &Database, tenant_id: &str) -> i64 {
    let sql = "SELECT COUNT(*) FROM vendor_tags WHERE tenant_id = $1";
    match &db.pool {
        Pool::Sqlite(pool) => sqlx::query_scalar(sql).bind(tenant_id).fetch_one(pool).await.unwrap(),
        Pool::Postgres(pool) => sqlx::query_scalar(sql).bind(tenant_id).fetch_one(pool).await.unwrap(),
    }
}

async fn a_vendor_table_lives_and_is_purged_with_its_tenant(kind: DbKind) {
    let app = TestApp::builder(kind).migrations(tags()).start().await;
    let tenant = Tenant::new(&crate::support::app::jira_site());
    assert_eq!(app.host.install(&tenant).await.status(), 204);
    let id = tenant_lookup::find_tenant(&app.raw_db, &tenant.client_key).await.unwrap().unwrap().tenant_id;
    assert_eq!(tag(&app.raw_db, id.as_str(), "triaged").await.unwrap(), 1);
    assert!(tag(&app.raw_db, "t-no-such-tenant", "stray").await.is_err(), "a row needs a real tenant");
    // An instance built without the vendor's migrations starts on the same database.
    let _second = app.another_instance().await;

    assert_eq!(app.host.uninstall(&tenant).await.status(), 204);
    assert_eq!(tags_of(&app.raw_db, id.as_str()).await, 1, "kept while the tenant is kept");
    app.clock.advance(31 * 86_400);
    let purged = maintenance::purge(&app.raw_db, &app.clock, Duration::from_secs(30 * 86_400)).await.unwrap();
    assert_eq!(purged.len(), 1);
    assert_eq!(tags_of(&app.raw_db, id.as_str()).await, 0, "purged with its tenant");
}
on_both_databases!(a_vendor_table_lives_and_is_purged_with_its_tenant);

#[tokio::test]
async fn vendor_migrations_numbered_among_the_houses_stop_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("app.db").display());
    let config = Config::from_lookup(|k| (k == "DATABASE_URL").then(|| url.clone())).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let low = VendorMigrations {
        sqlite: sqlx::migrate!("tests/vendor_migrations_low/sqlite"),
        postgres: sqlx::migrate!("tests/vendor_migrations_low/postgres"),
    };
    let refused = Application::builder(config).listener(listener).migrations(low).build().await;
    let message = refused.err().expect("refused").to_string();
    assert!(message.contains("vendor migration 12 is below 10000"), "{message}");
}

/// The house's migrations ignore a vendor's versions, yet a database that a
/// newer release migrated (a house version this one lacks) still stops it.
async fn a_database_from_a_newer_release_stops_the_start(kind: DbKind) {
    let db = crate::support::db::TestDb::new(kind).await;
    let database = Database::connect(&db.url).await.unwrap();
    database.migrate().await.unwrap();
    let sql = "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
               VALUES (9999, 'from a newer release', TRUE, $1, 1)";
    let checksum = vec![0u8; 48];
    match &database.pool {
        Pool::Sqlite(pool) => sqlx::query(sql).bind(checksum).execute(pool).await.map(drop),
        Pool::Postgres(pool) => sqlx::query(sql).bind(checksum).execute(pool).await.map(drop),
    }
    .unwrap();
    let refused = database.migrate().await.expect_err("refused").to_string();
    assert!(refused.contains("migration 9999, which this release does not know"), "{refused}");
}
on_both_databases!(a_database_from_a_newer_release_stops_the_start);
