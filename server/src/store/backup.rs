//! `server backup`: a consistent copy of the SQLite database, taken while the
//! app runs. `VACUUM INTO` reads one snapshot (WAL mode lets writers go on)
//! and writes a compact, self-contained file; restoring is stopping the app
//! and copying that file over the database. PostgreSQL has its own tools
//! (`pg_dump`, base backups), so the command refuses it.

use std::path::Path;

use super::{Database, Pool};
use crate::error::{Error, Result};

pub async fn sqlite_copy(db: &Database, to: &Path) -> Result<()> {
    let Pool::Sqlite(pool) = &db.pool else {
        return Err(Error::BadRequest("backup copies SQLite databases; use pg_dump for PostgreSQL".into()));
    };
    if to.exists() {
        return Err(Error::BadRequest(format!("{} exists already; backup never overwrites", to.display())));
    }
    let target = to.to_str().ok_or_else(|| Error::BadRequest("the backup path is not UTF-8".into()))?;
    sqlx::query("VACUUM INTO $1").bind(target).execute(pool).await?;
    // It holds console session ids and sealed secrets: for its owner only.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}
