//! The `notes` table. Every statement is scoped by the caller's tenant,
//! and changes also by the author, so one tenant or user can never reach
//! another's rows whatever id they send.

use ids::{AccountId, TenantId, UnixTime};

use super::Database;
use crate::error::Result;

#[derive(Clone, Debug, sqlx::FromRow)]
pub(crate) struct NoteRow {
    pub id: i64,
    pub author_account_id: AccountId,
    pub title: String,
    pub body: String,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
    pub issue_key: Option<String>,
}

const COLUMNS: &str = "id, author_account_id, title, body, created_at, updated_at, issue_key";

/// Newest first; a site's list is capped so one page stays small.
pub(crate) async fn list(db: &Database, tenant_id: &TenantId) -> Result<Vec<NoteRow>> {
    let sql = format!("SELECT {COLUMNS} FROM notes WHERE tenant_id = $1 ORDER BY updated_at DESC, id DESC LIMIT 500");
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(tenant_id).fetch_all(pool).await?))
}

pub(crate) async fn find(db: &Database, tenant_id: &TenantId, id: i64) -> Result<Option<NoteRow>> {
    let sql = format!("SELECT {COLUMNS} FROM notes WHERE tenant_id = $1 AND id = $2");
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(tenant_id).bind(id).fetch_optional(pool).await?))
}

/// Adds a note unless the site already holds `quota` notes (None then).
pub(crate) async fn insert(db: &Database, new: &NewNote<'_>, quota: i64) -> Result<Option<NoteRow>> {
    let sql = format!(
        "INSERT INTO notes (tenant_id, author_account_id, title, body, created_at, updated_at) \
         SELECT $1, $2, $3, $4, $5, $5 WHERE (SELECT COUNT(*) FROM notes WHERE tenant_id = $1) < $6 \
         RETURNING {COLUMNS}"
    );
    Ok(on_pool!(db, pool => {
        let query = sqlx::query_as(&sql).bind(new.tenant_id).bind(new.author).bind(new.title).bind(new.body);
        query.bind(new.now).bind(quota).fetch_optional(pool).await?
    }))
}

pub(crate) struct NewNote<'a> {
    pub tenant_id: &'a TenantId,
    pub author: &'a AccountId,
    pub title: &'a str,
    pub body: &'a str,
    pub now: UnixTime,
}

/// Changes a note only if it belongs to `tenant_id` and was written by `author`.
pub(crate) async fn update(
    db: &Database,
    tenant_id: &TenantId,
    author: &AccountId,
    id: i64,
    title: &str,
    body: &str,
    now: UnixTime,
) -> Result<Option<NoteRow>> {
    let sql = format!(
        "UPDATE notes SET title = $4, body = $5, updated_at = $6 \
         WHERE tenant_id = $1 AND author_account_id = $2 AND id = $3 RETURNING {COLUMNS}"
    );
    Ok(on_pool!(db, pool => {
        let query = sqlx::query_as(&sql).bind(tenant_id).bind(author).bind(id).bind(title).bind(body).bind(now);
        query.fetch_optional(pool).await?
    }))
}

/// Links a note to a Jira issue (or unlinks it, with `None`), only if it
/// belongs to `tenant_id` and was written by `author`.
pub(crate) async fn link(
    db: &Database,
    tenant_id: &TenantId,
    author: &AccountId,
    id: i64,
    issue_key: Option<&str>,
) -> Result<Option<NoteRow>> {
    let sql = format!(
        "UPDATE notes SET issue_key = $4 WHERE tenant_id = $1 AND author_account_id = $2 AND id = $3 \
         RETURNING {COLUMNS}"
    );
    Ok(on_pool!(db, pool => {
        sqlx::query_as(&sql).bind(tenant_id).bind(author).bind(id).bind(issue_key).fetch_optional(pool).await?
    }))
}

/// Deletes a note only if it belongs to `tenant_id` and was written by `author`.
pub(crate) async fn delete(db: &Database, tenant_id: &TenantId, author: &AccountId, id: i64) -> Result<bool> {
    let sql = "DELETE FROM notes WHERE tenant_id = $1 AND author_account_id = $2 AND id = $3";
    let deleted = on_pool!(db, pool => {
        sqlx::query(sql).bind(tenant_id).bind(author).bind(id).execute(pool).await?.rows_affected()
    });
    Ok(deleted == 1)
}
