//! Reading what the app stored, straight from its database.

use server::{
    store::{Database, Installation, Pool, event_log, installations},
    vendor::ClientKey,
};

use super::app::TestApp;

impl TestApp {
    /// The Connect tenant of `client_key`.
    pub async fn installation(&self, client_key: &str) -> Option<Installation> {
        installations::find_by_client_key(&self.raw_db, &ClientKey::new(client_key)).await.expect("read installation")
    }

    /// Everything stored about one installation, as comparable text (the
    /// ciphertext included), to prove a refused request changed nothing.
    pub async fn snapshot(&self, client_key: &str) -> String {
        let row = self.installation(client_key).await;
        let events = self.events(client_key).await;
        let accepted: Vec<_> = events
            .iter()
            .filter(|e| e.outcome != event_log::Outcome::Rejected)
            .map(|e| (e.id, e.event.clone()))
            .collect();
        match row {
            None => format!("none; events {accepted:?}"),
            Some(r) => format!(
                "{:?} {} {} {:?} {} {} {} {} {:?} {:?} {}; events {accepted:?}",
                r,
                r.base_url,
                hex::encode(r.secret_ciphertext.as_deref().unwrap_or_default()),
                r.state,
                r.install_generation,
                r.last_event_at,
                r.last_event_iat,
                r.last_install_iat,
                r.uninstalled_at,
                r.orphaned_at,
                r.install_signature
            ),
        }
    }

    /// The lifecycle log of the Connect tenant of `client_key` (none if it has no row).
    pub async fn events(&self, client_key: &str) -> Vec<event_log::EventRecord> {
        let Some(tenant) = self.installation(client_key).await else { return Vec::new() };
        event_log::for_tenant(&self.raw_db, &tenant.tenant_id, 1000).await.expect("events")
    }
}

/// Every row of every table the app owns, as bytes: text and blobs as
/// stored (so a secret in clear is found by a scan), numbers as digits, each
/// table's rows sorted. The tables are read from the schema, so a table a
/// migration adds is covered without anyone listing it here. Equal dumps
/// before and after a request prove it wrote nothing.
pub async fn dump(db: &Database) -> Vec<u8> {
    let mut out = Vec::new();
    for table in tables(db).await {
        let mut rows = table_rows(db, &table).await;
        rows.sort();
        out.extend_from_slice(format!("== {table} ({} rows)\n", rows.len()).as_bytes());
        for row in rows {
            out.extend_from_slice(&row);
            out.push(b'\n');
        }
    }
    out
}

/// The rows of every table but the purge log that contain `needle` (a
/// tenant's id): what is left of a tenant that should be gone with its data.
pub async fn rows_naming(db: &Database, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for table in tables(db).await {
        if table.contains("purge_log") {
            continue;
        }
        for row in table_rows(db, &table).await {
            let text = String::from_utf8_lossy(&row).into_owned();
            if text.contains(needle) {
                found.push(format!("{table}: {text}"));
            }
        }
    }
    found
}

/// Waits until some row holds `needle`: for a write the app makes after
/// its answer (the product API check of a new install).
pub async fn wait_for_row(db: &Database, needle: &str) {
    let what = format!("a row holds {needle:?}");
    super::eventually::eventually(&what, || async { dump_text(&dump(db).await).contains(needle) }).await;
}

/// The dump as text, for a readable difference when two dumps differ.
pub fn dump_text(dump: &[u8]) -> String {
    String::from_utf8_lossy(dump).into_owned()
}

/// The app's tables (sqlx's migration table excepted), quoted for SQL.
pub async fn tables(db: &Database) -> Vec<String> {
    let names: Vec<String> = match &db.pool {
        Pool::Sqlite(pool) => sqlx::query_scalar(
            "SELECT '\"' || name || '\"' FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
        )
        .fetch_all(pool)
        .await
        .expect("list tables"),
        Pool::Postgres(pool) => sqlx::query_scalar(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables \
             WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND tablename <> '_sqlx_migrations' \
             ORDER BY schemaname, tablename",
        )
        .fetch_all(pool)
        .await
        .expect("list tables"),
    };
    assert!(names.len() >= 8, "the schema lists too few tables: {names:?}");
    names
}

/// One line per row: each column's value, separated by a tab.
async fn table_rows(db: &Database, table: &str) -> Vec<Vec<u8>> {
    macro_rules! lines {
        ($pool:expr) => {{
            use sqlx::{Row, ValueRef};
            let sql = select_all(db, table).await;
            let rows = sqlx::query(&sql).fetch_all($pool).await.expect("dump a table");
            rows.iter()
                .map(|row| {
                    let mut line = Vec::new();
                    for i in 0..row.columns().len() {
                        if i > 0 {
                            line.push(b'\t');
                        }
                        if row.try_get_raw(i).map(|v| v.is_null()).unwrap_or(true) {
                            line.extend_from_slice(b"NULL");
                        } else if let Ok(text) = row.try_get::<String, _>(i) {
                            line.extend_from_slice(text.as_bytes());
                        } else if let Ok(bytes) = row.try_get::<Vec<u8>, _>(i) {
                            line.extend_from_slice(&bytes);
                        } else if let Ok(n) = row.try_get::<i64, _>(i) {
                            line.extend_from_slice(n.to_string().as_bytes());
                        } else if let Ok(n) = row.try_get::<i32, _>(i) {
                            line.extend_from_slice(n.to_string().as_bytes());
                        } else if let Ok(n) = row.try_get::<f64, _>(i) {
                            line.extend_from_slice(n.to_string().as_bytes());
                        } else {
                            panic!("{table}: column {i} has a type the dump cannot read");
                        }
                    }
                    line
                })
                .collect()
        }};
    }
    match &db.pool {
        Pool::Sqlite(pool) => lines!(pool),
        Pool::Postgres(pool) => lines!(pool),
    }
}

/// `SELECT *`, except that on PostgreSQL every column but a `bytea` is read
/// as text (timestamps and the like have no one Rust type to decode into).
async fn select_all(db: &Database, table: &str) -> String {
    let Pool::Postgres(pool) = &db.pool else { return format!("SELECT * FROM {table}") };
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT quote_ident(column_name::text), data_type::text FROM information_schema.columns \
         WHERE quote_ident(table_schema::text) || '.' || quote_ident(table_name::text) = $1 ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(pool)
    .await
    .expect("list columns");
    let list: Vec<String> = columns
        .iter()
        .map(|(name, kind)| if kind == "bytea" { name.clone() } else { format!("{name}::text") })
        .collect();
    format!("SELECT {} FROM {table}", list.join(", "))
}
