//! Reading what the app stored, straight from its database.

use server::store::{Database, Installation, Pool, event_log, installations};

use super::app::TestApp;

impl TestApp {
    pub async fn installation(&self, client_key: &str) -> Option<Installation> {
        installations::find(&self.raw_db, client_key).await.expect("read installation")
    }

    /// Everything stored about one installation, as comparable text (the
    /// ciphertext included), to prove a refused request changed nothing.
    pub async fn snapshot(&self, client_key: &str) -> String {
        let row = self.installation(client_key).await;
        let events = event_log::for_installation(&self.raw_db, client_key, 1000).await.expect("events");
        let accepted: Vec<_> =
            events.iter().filter(|e| e.outcome != "rejected").map(|e| (e.id, e.event.clone())).collect();
        match row {
            None => format!("none; events {accepted:?}"),
            Some(r) => format!(
                "{:?} {} {} {:?} {} {} {} {} {:?} {:?} {}; events {accepted:?}",
                r,
                r.base_url,
                hex::encode(&r.secret_ciphertext),
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

    pub async fn events(&self, client_key: &str) -> Vec<event_log::EventRecord> {
        event_log::for_installation(&self.raw_db, client_key, 1000).await.expect("events")
    }
}

/// Every text and blob value in the database, for "no plaintext secret" scans.
pub async fn dump(db: &Database) -> Vec<u8> {
    let mut out = Vec::new();
    let tables = ["installations", "lifecycle_events", "purge_log"];
    for table in tables {
        let sql = format!("SELECT * FROM {table}");
        match &db.pool {
            Pool::Sqlite(pool) => {
                use sqlx::{Row, ValueRef};
                for row in sqlx::query(&sql).fetch_all(pool).await.expect("dump") {
                    for i in 0..row.columns().len() {
                        if row.try_get_raw(i).map(|v| v.is_null()).unwrap_or(true) {
                            continue;
                        }
                        if let Ok(text) = row.try_get::<String, _>(i) {
                            out.extend_from_slice(text.as_bytes());
                        } else if let Ok(bytes) = row.try_get::<Vec<u8>, _>(i) {
                            out.extend_from_slice(&bytes);
                        }
                        out.push(b'\n');
                    }
                }
            }
            Pool::Postgres(pool) => {
                let sql = format!("SELECT row_to_json(t)::text FROM {table} t");
                for text in sqlx::query_scalar::<_, String>(&sql).fetch_all(pool).await.expect("dump") {
                    out.extend_from_slice(text.as_bytes());
                    out.push(b'\n');
                }
            }
        }
    }
    out
}
