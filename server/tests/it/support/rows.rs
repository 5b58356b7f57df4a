//! Reading what the app stored, straight from its database.

use server::{
    store::{Database, Pool, Tenant, event_log, installations},
    vendor::ClientKey,
};

use super::app::TestApp;

impl TestApp {
    /// The Connect tenant of `client_key`.
    pub async fn installation(&self, client_key: &str) -> Option<Tenant> {
        installations::find_by_client_key(&self.raw_db, &ClientKey::new(client_key)).await.expect("read installation")
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
    dump_where(db, |_| None).await
}

/// What a refused request may add, and only that: its own line in the
/// lifecycle log (outcome `rejected`, a few an hour per tenant, kept so an
/// attack can be seen: `server/src/store/event_log.rs`). Every other row of
/// every table, that log's other lines included, must stay byte-equal.
fn refusal_trace(table: &str) -> Option<&'static str> {
    (unquoted(table) == "lifecycle_events").then_some("outcome <> 'rejected'")
}

/// [`dump`] without the trace a refusal is meant to leave ([`refusal_trace`]).
pub async fn dump_but_refusals(db: &Database) -> Vec<u8> {
    dump_where(db, refusal_trace).await
}

/// The whole store, recorded before a request that must change nothing.
pub struct Unchanged<'a> {
    db: &'a Database,
    before: Vec<u8>,
}

impl<'a> Unchanged<'a> {
    pub async fn record(db: &'a Database) -> Self {
        Self { db, before: dump_but_refusals(db).await }
    }

    /// Fails naming `what`, with the rows that differ, unless every table
    /// (but the refusal's own trace) is as it was recorded.
    pub async fn check(&self, what: &str) {
        let after = dump_but_refusals(self.db).await;
        if after != self.before {
            let (before, after) = (dump_text(&self.before), dump_text(&after));
            panic!("{what}: a refused request changed the store\n{}", line_diff(&before, &after));
        }
    }
}

/// The lines only in `before` (`-`) and only in `after` (`+`).
fn line_diff(before: &str, after: &str) -> String {
    let gone = before.lines().filter(|l| !after.lines().any(|a| a == *l)).map(|l| format!("- {l}"));
    let came = after.lines().filter(|l| !before.lines().any(|b| b == *l)).map(|l| format!("+ {l}"));
    gone.chain(came).collect::<Vec<_>>().join("\n")
}

/// A table's own name, without schema or quotes.
fn unquoted(table: &str) -> &str {
    table.rsplit('.').next().unwrap_or(table).trim_matches('"')
}

/// [`dump`], each table's rows limited by the SQL condition `filter` gives it.
async fn dump_where(db: &Database, filter: impl Fn(&str) -> Option<&'static str>) -> Vec<u8> {
    let mut out = Vec::new();
    for table in tables(db).await {
        let mut rows = table_rows(db, &table, filter(&table)).await;
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
        for row in table_rows(db, &table, None).await {
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

/// One line per row (those meeting `filter`, if any): each column's value, separated by a tab.
async fn table_rows(db: &Database, table: &str, filter: Option<&str>) -> Vec<Vec<u8>> {
    macro_rules! lines {
        ($pool:expr) => {{
            use sqlx::{Row, ValueRef};
            let mut sql = select_all(db, table).await;
            if let Some(condition) = filter {
                sql = format!("{sql} WHERE {condition}");
            }
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
